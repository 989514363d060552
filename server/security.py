"""Safe-by-default HTTP policy: origin allow-list and security headers.

CORS headers themselves come from Starlette's ``CORSMiddleware`` (see ``app.py``). CORS only
tells *browsers* whether a page may read a response; the request has still reached the
server. ``OriginGuard`` therefore refuses, before any engine work, every ``/api/`` request
whose ``Origin`` is neither the server itself nor allowed.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port, or None if invalid."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def is_same_origin(origin: str, host_header: str | None) -> bool:
    """True if ``origin`` names the host the request was sent to.

    The scheme is ignored: behind a TLS-terminating proxy the server sees http while the
    browser's origin is https, yet both name the same site.
    """
    norm = normalise_origin(origin)
    if norm is None or not host_header:
        return False
    scheme = norm.split("://", 1)[0]
    return norm == normalise_origin(f"{scheme}://{host_header}")


class OriginGuard:
    """ASGI middleware: 403 for cross-origin ``/api/`` requests from origins not allowed.

    Requests without an ``Origin`` header come from non-browser clients (curl, scripts) and
    are allowed: browsers always send ``Origin`` on cross-origin fetches and on POST.
    """

    def __init__(
        self, app: ASGIApp, allowed_origins: list[str], prefixes: tuple[str, ...] = ("/api/",)
    ):
        self.app = app
        self.allowed = {n for o in allowed_origins if (n := normalise_origin(o))}
        self.prefixes = prefixes

    def allows(self, origin: str, host_header: str | None) -> bool:
        if is_same_origin(origin, host_header):
            return True
        return normalise_origin(origin) in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        preflight = scope["method"] == "OPTIONS"  # answered by CORSMiddleware, no engine work
        if origin is None or preflight or self.allows(origin, headers.get("host")):
            await self.app(scope, receive, send)
            return
        await send_json_error(
            send,
            403,
            "origin_not_allowed",
            f"Ce site ({origin}) n'est pas autorisé à interroger cet assistant. "
            "L'administrateur peut l'ajouter à PASSERELLE_ALLOWED_ORIGINS.",
        )


# The chat UI's Content-Security-Policy. Gradio's page needs inline scripts (its config is
# an inline <script>) and eval (gr.HTML's js_on_load runs through new Function); what the
# policy buys is that the page talks to, loads from and is framed by this server only: an
# image or link smuggled into a document cannot reach another host, offline stays offline.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "media-src 'self' data: blob:; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
# Only when PASSERELLE_API_DOCS=true: FastAPI's Swagger page loads its code from a CDN.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://fastapi.tiangolo.com; connect-src 'self'; frame-ancestors 'self'"
)


class SecurityHeaders:
    """ASGI middleware adding ``nosniff``, a referrer policy, a CSP and framing rules.

    Only ``/embed`` may be framed, and only by the allowed origins (``'self'`` when none);
    every other page (chat UI, admin tab) refuses to be framed, against clickjacking, and
    gets ``PAGE_CSP``.
    """

    def __init__(self, app: ASGIApp, allowed_origins: list[str]):
        self.app = app
        ancestors = " ".join(["'self'", *allowed_origins])
        self.embed_csp = (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data:; connect-src 'self'; frame-ancestors {ancestors}"
        )

    def csp_for(self, path: str) -> str:
        path = path.rstrip("/")
        if path == "/embed":
            return self.embed_csp
        if path == "/docs" or path.startswith("/docs/"):
            return DOCS_CSP
        return PAGE_CSP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        embed = scope["path"].rstrip("/") == "/embed"
        csp = self.csp_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                names = {k.lower() for k, _ in raw}
                add = [(b"x-content-type-options", b"nosniff")]
                add.append((b"referrer-policy", b"strict-origin-when-cross-origin"))
                add.append((b"content-security-policy", csp.encode()))
                if not embed and b"x-frame-options" not in names:
                    add.append((b"x-frame-options", b"SAMEORIGIN"))
                raw += [(k, v) for k, v in add if k not in names]
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def send_json_error(
    send: Send, status: int, code: str, detail: str, extra: dict | None = None
) -> None:
    """Send a complete JSON error response ``{"error", "detail", ...}`` from middleware."""
    body = json.dumps({"error": code, "detail": detail, **(extra or {})}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
