"""Admin-only HTTP doors outside Gradio's events: the upload gate and two admin routes.

Gradio's ``/gradio_api/upload`` accepts files from anyone (it must: the browser uploads a
file as soon as it is picked, before any button runs). The only upload component of this
app is the admin tab's, so ``UploadGate`` refuses, before a byte of the body is read, every
upload that does not carry the admin token (``X-Passerelle-Admin`` header, used by
``gradio_client``) or the admin session cookie (set by ``POST /admin/session`` when the
token is typed in the admin tab). No anonymous upload reaches the disk.

``GET /admin/feedback.jsonl`` streams the ratings to an admin: the export is never written
to a file that a URL could fetch.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from server.adminauth import COOKIE, AdminAuth, AdminDenied
from server.clients import client_address

UPLOAD_SUFFIX = "/gradio_api/upload"


def denied_response(exc: AdminDenied) -> JSONResponse:
    """403, or 429 with ``Retry-After`` when the client is throttled."""
    if exc.retry_after is not None:
        return JSONResponse(
            {"error": "admin_throttled", "detail": str(exc), "retry_after": exc.retry_after},
            429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    return JSONResponse({"error": "admin_denied", "detail": str(exc)}, 403)


class UploadGate:
    """ASGI middleware: Gradio uploads only with the admin token or session cookie."""

    def __init__(self, app: ASGIApp, auth: AdminAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].rstrip("/").endswith(UPLOAD_SUFFIX):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        try:
            self.auth.verify_request(
                conn.headers, conn.cookies, client_address(scope.get("client"))
            )
        except AdminDenied as exc:
            await denied_response(exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SessionRequest(BaseModel):
    token: str = Field(max_length=512)


def build_admin_router(auth: AdminAuth, feedback_path: Path) -> APIRouter:
    """``POST /admin/session`` (token → cookie) and ``GET /admin/feedback.jsonl``."""
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.post("/session")
    async def session(body: SessionRequest, request: Request) -> Response:
        try:
            auth.verify(body.token, client_address(request.client))
        except AdminDenied as exc:
            return denied_response(exc)
        response = Response(status_code=204)
        response.set_cookie(
            COOKIE, auth.session_value(), httponly=True, samesite="strict", path="/"
        )
        return response

    @router.get("/feedback.jsonl")
    async def feedback(request: Request) -> Response:
        try:
            auth.verify_request(request.headers, request.cookies, client_address(request.client))
        except AdminDenied as exc:
            return denied_response(exc)
        from ui.feedback import FeedbackStore

        rows = FeedbackStore(feedback_path).rows()
        lines = (json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        return StreamingResponse(
            lines,
            media_type="application/x-ndjson; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="avis.jsonl"',
                "Cache-Control": "no-store",
            },
        )

    return router
