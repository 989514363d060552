"""The public HTTP API: ``POST /api/ask``, ``POST /api/chat`` (server-sent events), health.

Engine calls block (embedding, generation), so they run in the threadpool and the event
loop keeps serving other requests; the stream's sync generator is pulled one event at a
time from a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from answer.errors import EmptyQuestion, GeneratorUnavailable, QuestionError, QuestionTooLong
from answer.types import AnswerEvent, Message, SourcesEvent, StreamEvent, TokenEvent
from index.collections import Scope
from index.links import with_links
from index.store import StoreChanging, StoreUnavailable
from server.admission import Refused, admit_question
from server.clients import client_address
from server.errors import ApiError
from server.loading import ServiceSlot
from server.models import (
    AnswerModel,
    AskRequest,
    ErrorModel,
    HealthModel,
    LoadingModel,
)
from server.scheduler import QueuedEvent, QuickAnswerEvent
from server.scope import caller_of, narrow_to
from settings import Settings

log = logging.getLogger("passerelle.server")

SessionHeader = Annotated[
    str | None, Header(alias="X-Passerelle-Session", max_length=128, include_in_schema=True)
]
_END = object()


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorModel} for code in codes}


def max_body_bytes(settings: Settings) -> int:
    """Largest accepted request body: a full question and history, JSON-escaped, plus slack."""
    chars = settings.max_question_chars * (1 + 4 * settings.max_history_messages)
    return 6 * chars + 16_384


def admit(
    request: Request, body: AskRequest, session_header: str | None
) -> tuple[list[Message], Scope]:
    """Checks that run before any engine work (``server.admission``, then the caller's
    collections, ``server.scope``). Returns the history and the collections to search."""
    try:
        caller = caller_of(request)
        scope = narrow_to(caller, body.collection)
        admit_question(
            request.app.state.settings,
            request.app.state.limiter,
            body.question,
            [m.content for m in body.history],
            client=client_address(request.client),
            session=session_header or body.session,
            key=caller.key,
        )
    except Refused as refused:
        headers = {}
        if "retry_after" in refused.extra:
            headers["Retry-After"] = str(refused.extra["retry_after"])
        raise ApiError(
            refused.status, refused.code, refused.detail, headers=headers, **refused.extra
        ) from None
    return [Message(role=m.role, content=m.content) for m in body.history], scope


def _client(request: Request, body: AskRequest) -> str:
    """Whose turn in the model's queue: the conversation, else the client address."""
    session = request.headers.get("x-passerelle-session") or body.session
    return f"session:{session}" if session else f"ip:{client_address(request.client)}"


def _too_long(exc: QuestionTooLong) -> ApiError:
    return ApiError(413, "question_too_long", str(exc), max_chars=exc.limit)


def _empty(exc: EmptyQuestion) -> ApiError:
    return ApiError(422, "empty_question", str(exc))


def _engine_error(exc: Exception) -> ApiError:
    """The HTTP form of an error raised by the answer engine."""
    if isinstance(exc, QuestionTooLong):
        return _too_long(exc)
    if isinstance(exc, EmptyQuestion):
        return _empty(exc)
    if isinstance(exc, QuestionError):
        return ApiError(422, "invalid_request", str(exc))
    if isinstance(exc, StoreChanging):  # another process kept rewriting it: a moment
        return ApiError(
            503,
            "index_busy",
            "L'index de documents est en cours de réindexation ; réessayez dans un instant. / "
            "The document index is being re-indexed; retry in a moment.",
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, StoreUnavailable):
        return ApiError(
            503,
            "unavailable",
            f"L'index de documents est injoignable. / The document store is unreachable: {exc}",
        )
    if isinstance(exc, GeneratorUnavailable):
        return ApiError(
            503,
            "unavailable",
            f"Le générateur de réponses est indisponible. / Generator unavailable: {exc}",
        )
    log.exception("answer engine failed", exc_info=exc)
    return ApiError(
        500,
        "internal_error",
        "Erreur interne pendant la réponse ; réessayez. / Internal error while answering.",
    )


def answer_payload(event: AnswerEvent) -> dict[str, Any]:
    """The checked answer's JSON; a quick answer (busy server) adds its ``notice``."""
    data = event.result.to_dict()
    with_links(data["citations"])
    if isinstance(event, QuickAnswerEvent):
        data["notice"] = event.notice
    return data


def event_payload(event: StreamEvent | QueuedEvent) -> tuple[str, dict[str, Any]]:
    """SSE event name and JSON data of one stream event (engine or scheduler)."""
    if isinstance(event, QueuedEvent):
        return "queued", {"position": event.position, "expected_s": event.expected_s}
    if isinstance(event, SourcesEvent):
        return "sources", {"citations": with_links([asdict(c) for c in event.citations])}
    if isinstance(event, TokenEvent):
        return "token", {"text": event.text}
    if isinstance(event, AnswerEvent):
        return "answer", answer_payload(event)
    raise TypeError(f"unknown stream event {event!r}")


def _sse(name: str, data: dict[str, Any]) -> dict[str, str]:
    return {"event": name, "data": json.dumps(data, ensure_ascii=False)}


async def _event_stream(
    first: StreamEvent | QueuedEvent, events: Iterator[StreamEvent | QueuedEvent]
) -> AsyncIterator[dict]:
    """The SSE events: the already-pulled first event, the rest, or a final ``error``."""
    try:
        yield _sse(*event_payload(first))
        while (event := await run_in_threadpool(next, events, _END)) is not _END:
            yield _sse(*event_payload(event))
    except Exception as exc:  # the stream has started: report in-band, keep the server up
        error = _engine_error(exc)
        yield _sse("error", {"error": error.code, "detail": error.detail, "status": error.status})
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            # ValueError: still running in a worker thread after a client disconnect
            with contextlib.suppress(ValueError):
                close()


def build_router(settings: Settings) -> APIRouter:
    """The ``/api`` routes; body size limits come from ``settings``."""
    router = APIRouter(prefix="/api", tags=["api"])
    body_limit = max_body_bytes(settings)

    @router.post(
        "/ask",
        response_model=AnswerModel,
        responses=_errors(403, 413, 422, 429, 500, 503),
        max_body_size=body_limit,
        summary="Answer a question with checked citations",
    )
    async def ask(
        body: AskRequest, request: Request, x_passerelle_session: SessionHeader = None
    ) -> dict[str, Any]:
        slot: ServiceSlot = request.app.state.slot
        services = slot.require()
        history, scope = admit(request, body, x_passerelle_session)
        try:
            engine = services.engine_for(scope)
            event = await run_in_threadpool(
                lambda: services.scheduler.ask(
                    engine, body.question, history, client=_client(request, body)
                )
            )
        except Exception as exc:
            raise _engine_error(exc) from exc
        return answer_payload(event)

    @router.post(
        "/chat",
        response_class=EventSourceResponse,
        responses={
            200: {
                "description": "Server-sent events: `sources` (`{citations}`), then `token` "
                "(`{text}`) events, then one `answer` (the checked AnswerModel); `error` "
                "(`{error, detail, status}`) replaces the rest if answering fails.",
                "content": {"text/event-stream": {}},
            },
            **_errors(403, 413, 422, 429, 500, 503),
        },
        max_body_size=body_limit,
        summary="Answer a question as a stream of server-sent events",
    )
    async def chat(
        body: AskRequest, request: Request, x_passerelle_session: SessionHeader = None
    ) -> EventSourceResponse:
        slot: ServiceSlot = request.app.state.slot
        services = slot.require()
        history, scope = admit(request, body, x_passerelle_session)
        events = services.scheduler.stream(
            services.engine_for(scope), body.question, history, client=_client(request, body)
        )
        # Pull the first event before answering 200, so that refused questions get a status.
        try:
            first = await run_in_threadpool(next, events, _END)
        except Exception as exc:
            raise _engine_error(exc) from exc
        if first is _END:
            raise _engine_error(RuntimeError("the answer stream was empty"))
        return EventSourceResponse(
            _event_stream(first, events), ping=15, headers={"Cache-Control": "no-store"}
        )

    @router.get(
        "/health",
        response_model=HealthModel,
        responses={503: {"model": LoadingModel}},
        summary="Readiness: 503 while loading, then document and chunk counts",
    )
    async def health(request: Request) -> Any:
        slot: ServiceSlot = request.app.state.slot
        if slot.services is None:
            state = "error" if slot.error else "loading"
            body = {"status": state, "detail": slot.error}
            return JSONResponse(body, 503, headers={"Retry-After": "5"})
        try:
            status = await run_in_threadpool(slot.services.index_status.get)
        except Exception as exc:  # the store went away: not ready, but the server stays up
            log.exception("health: index status failed")
            body = {"status": "error", "detail": f"{type(exc).__name__}: {exc}"}
            return JSONResponse(body, 503, headers={"Retry-After": "5"})
        return {
            "status": "ok",
            "documents": int(status.get("documents", 0)),
            "chunks": int(status.get("chunks", 0)),
            "generator": slot.services.settings.generator,
            "queue": slot.services.scheduler.health(),
            "memo": memo.stats() if (memo := getattr(slot.services.engine, "memo", None)) else None,
        }

    return router
