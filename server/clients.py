"""Who is asking: the client address every limit is keyed on, and the proxies trusted to
name it.

``X-Forwarded-For`` is believed only from the proxies listed in
``PASSERELLE_TRUSTED_PROXIES`` (default none): ``create_app`` then wraps the app in
uvicorn's own ``ProxyHeadersMiddleware`` for exactly those addresses, and ``passerelle
serve`` runs uvicorn with ``proxy_headers=False`` so that uvicorn's default (trust
127.0.0.1) never applies. Everything downstream (the rate limits of the API and of the
Gradio chat, the admin-token throttle) reads the one address this leaves in the scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def client_address(client: Sequence[Any] | None) -> str:
    """The host of an ASGI ``scope["client"]`` or a Starlette ``Address`` (or "unknown")."""
    return str(client[0]) if client else "unknown"


def request_address(request: object) -> str:
    """The client address of a Starlette or Gradio request (``gr.Request``), or "unknown"."""
    return client_address(getattr(request, "client", None))
