"""OpenAI-compatible API: ``GET /v1/models``, ``POST /v1/chat/completions``.

Any OpenAI chat client can use Passerelle: the model ``passerelle-<collection>`` answers
from that collection (one model per collection the key may read); ``passerelle`` from all
of them. ``content`` is the *checked* answer with its ``[n]`` markers; the citations travel
in an extra ``citations`` field (of the response, and of the last chunk when streaming).
``"sources_in_content": true`` in the body, or a model name ending in ``+sources``, also
appends them to ``content`` as a numbered list, for clients that show only ``content``.

Every request needs ``Authorization: Bearer <key>`` (``passerelle keys create``); the
same checks as ``/api/ask`` then run (``server.admission``: the key's rate limit, sizes,
text). Errors have OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``.
Streaming sends the role at once, comment pings while the answer is being written and
checked, then the checked answer: tokens the checker may still remove are never sent.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from answer.errors import EmptyQuestion, QuestionError, QuestionTooLong
from answer.types import AnswerEvent, Message
from index.collections import ALL, Scope, allows
from index.links import with_links
from server.admission import Refused, admit_question
from server.clients import client_address
from server.errors import ApiError
from server.scope import Caller, caller_of, collection_config
from settings import Settings

log = logging.getLogger("passerelle.server")

MODEL_PREFIX = "passerelle"
SOURCES_SUFFIX = "+sources"
PING_S = 15.0
_END = object()

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}


class OpenAIError(Exception):
    """An error returned in OpenAI's shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {
            "error": {
                "message": self.message,
                "type": ERROR_TYPES.get(self.status, "invalid_request_error"),
                "param": self.param,
                "code": self.code,
            }
        }
        return JSONResponse(body, self.status, headers=self.headers)


class ChatMessage(BaseModel):
    """One message: ``content`` a string or a list of ``{"type": "text", "text"}`` parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The subset of OpenAI's chat request Passerelle reads; other fields are ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(max_length=80)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    sources_in_content: bool = False
    user: str | None = Field(default=None, max_length=128)


def model_names(scope: Scope, present: list[str]) -> list[str]:
    """``passerelle-<collection>`` for each collection ``scope`` may read."""
    return [f"{MODEL_PREFIX}-{name}" for name in sorted(present) if allows(scope, name)]


def _collection_scope(caller: Caller, model: str, present: list[str]) -> Scope:
    """The collections the model name asks for, if the caller's key may read them."""
    if model == MODEL_PREFIX:
        return caller.scope
    name = model.removeprefix(f"{MODEL_PREFIX}-") if model.startswith(f"{MODEL_PREFIX}-") else ""
    if not name or name == ALL or name not in present or not allows(caller.scope, name):
        # unknown and not allowed look the same: a key learns nothing of other collections
        raise OpenAIError(
            404,
            "model_not_found",
            f"The model `{model}` does not exist or you do not have access to it.",
            "model",
        )
    return frozenset({name})


def _question_and_history(request: ChatRequest) -> tuple[str, list[Message]]:
    """The last user message is the question; earlier user/assistant turns the history."""
    turns = [m for m in request.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise OpenAIError(400, "invalid_request_error", "The last message must be from the user.",
                          "messages")  # fmt: skip
    history = [Message(m.role, m.text()) for m in turns[:-1]]  # type: ignore[arg-type]
    return turns[-1].text(), history


def sources_text(citations: list[dict], language: str) -> str:
    """The numbered source list appended to ``content`` on request."""
    if not citations:
        return ""
    lines = ["Sources :" if language == "fr" else "Sources:"]
    for c in citations:
        page = f", p. {c['page']}" if c.get("page") else ""
        lines.append(f"[{c['n']}] {c['title']}{page} ({c['source']})")
    return "\n\n" + "\n".join(lines)


def _refused(refused: Refused) -> OpenAIError:
    status = 400 if refused.status in (413, 422) else refused.status
    headers = {}
    if "retry_after" in refused.extra:
        headers["Retry-After"] = str(refused.extra["retry_after"])
    code = "rate_limit_exceeded" if refused.status == 429 else refused.code
    return OpenAIError(status, code, refused.detail, headers=headers)


def _engine_error(exc: Exception) -> OpenAIError:
    if isinstance(exc, QuestionTooLong | EmptyQuestion | QuestionError):
        return OpenAIError(400, "invalid_request_error", str(exc), "messages")
    if isinstance(exc, ApiError):
        return OpenAIError(exc.status, exc.code, exc.detail, headers=exc.headers)
    from index.store import StoreChanging, StoreUnavailable

    if isinstance(exc, StoreChanging):
        return OpenAIError(
            503,
            "index_busy",
            "The document index is being re-indexed; retry in a moment.",
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, StoreUnavailable):
        return OpenAIError(503, "unavailable", "The document store is unreachable.")
    log.exception("chat completion failed", exc_info=exc)
    return OpenAIError(500, "internal_error", "Internal error while answering; please retry.")


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def _answer_fields(event: AnswerEvent, with_sources: bool) -> tuple[str, list[dict], dict]:
    """``content``, ``citations`` and the extra ``passerelle`` fields of an answer."""
    result = event.result
    citations = with_links([asdict(c) for c in result.citations])
    content = result.answer + (sources_text(citations, result.language) if with_sources else "")
    extra = {
        "answerable": result.answerable,
        "language": result.language,
        "generator": result.generator,
        "notice": getattr(event, "notice", "") or None,
    }
    return content, citations, extra


def _chunk(
    cid: str, created: int, model: str, delta: dict, finish: str | None = None, **extra: Any
) -> str:
    """One ``chat.completion.chunk`` as an SSE ``data:`` line."""
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [choice], **extra}  # fmt: skip
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def _stream(events: Iterator, model: str, with_sources: bool) -> AsyncIterator[str]:
    """SSE chunks: role, pings, the checked answer, the last chunk with citations."""
    cid, created = _completion_id(), int(time.time())
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    try:
        while (event := await run_in_threadpool(next, events, _END)) is not _END:
            if isinstance(event, AnswerEvent):
                content, citations, extra = _answer_fields(event, with_sources)
                yield _chunk(cid, created, model, {"content": content})
                yield _chunk(cid, created, model, {}, "stop", citations=citations,
                             passerelle=extra)  # fmt: skip
                break
            yield ": ping\n\n"  # sources, tokens not yet checked, queue positions
    except Exception as exc:  # started: report in-band as OpenAI servers do
        error = _engine_error(exc)
        body = {"error": {"message": error.message, "type": ERROR_TYPES.get(error.status),
                          "param": None, "code": error.code}}  # fmt: skip
        yield f"data: {json.dumps(body)}\n\n"
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            with contextlib.suppress(ValueError):
                close()
    yield "data: [DONE]\n\n"


def build_openai_router(settings: Settings) -> APIRouter:
    """The ``/v1`` routes."""
    from server.api import max_body_bytes

    router = APIRouter(prefix="/v1", tags=["openai"])

    def authorised(request: Request) -> Caller:
        if not request.headers.get("authorization"):
            raise OpenAIError(
                401,
                "invalid_api_key",
                "Missing API key: send Authorization: Bearer <key> (passerelle keys create).",
            )
        try:
            return caller_of(request)
        except Refused as refused:
            raise _refused(refused) from None

    def present(request: Request) -> list[str]:
        services = request.app.state.slot.require()
        config = collection_config(request.app.state)
        return sorted(set(services.index.collections()) | set(config.entries()))

    @router.get("/models", summary="One model per collection the key may read")
    async def models(request: Request) -> JSONResponse:
        try:
            caller = authorised(request)
            names = model_names(caller.scope, await run_in_threadpool(present, request))
        except OpenAIError as error:
            return error.response()
        except ApiError as exc:
            return _engine_error(exc).response()
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "passerelle"}
                for n in names]  # fmt: skip
        return JSONResponse({"object": "list", "data": data})

    @router.post(
        "/chat/completions",
        max_body_size=max_body_bytes(settings),
        summary="OpenAI chat completion: the checked answer with citations",
    )
    async def chat_completions(request: Request) -> Any:
        try:
            caller = authorised(request)
            try:
                body = ChatRequest.model_validate_json(await request.body())
            except ValidationError as exc:
                first = exc.errors()[0]
                param = ".".join(str(p) for p in first.get("loc", ())) or None
                raise OpenAIError(400, "invalid_request_error", first.get("msg", "invalid"),
                                  param) from None  # fmt: skip
            services = request.app.state.slot.require()
            model = body.model
            with_sources = body.sources_in_content or model.endswith(SOURCES_SUFFIX)
            model = model.removesuffix(SOURCES_SUFFIX)
            scope = _collection_scope(caller, model, await run_in_threadpool(present, request))
            question, history = _question_and_history(body)
            try:
                admit_question(
                    request.app.state.settings,
                    request.app.state.limiter,
                    question,
                    [m.content for m in history],
                    client=client_address(request.client),
                    session=body.user,
                    key=caller.key,
                )
            except Refused as refused:
                raise _refused(refused) from None
            engine = services.engine_for(scope)
            client = f"key:{caller.key.id}" if caller.key else "v1"
            if body.stream:
                try:
                    events = services.scheduler.stream(engine, question, history, client=client)
                except Exception as exc:
                    raise _engine_error(exc) from exc
                return StreamingResponse(
                    _stream(events, model, with_sources),
                    media_type="text/event-stream",
                    headers={"Cache-Control": "no-store"},
                )
            try:
                event = await run_in_threadpool(
                    lambda: services.scheduler.ask(engine, question, history, client=client)
                )
            except Exception as exc:
                raise _engine_error(exc) from exc
        except OpenAIError as error:
            return error.response()
        except ApiError as exc:  # still loading
            return _engine_error(exc).response()
        content, citations, extra = _answer_fields(event, with_sources)
        return JSONResponse(
            {
                "id": _completion_id(),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "citations": citations,
                "passerelle": extra,
            }
        )

    return router
