"""One FastAPI process: the HTTP API, the widget, ``/embed`` and the Gradio chat UI at ``/``.

``create_app(services)`` serves already-loaded services (tests, embedding in other code);
``create_app(settings=...)`` answers at once and loads the index and models in the
background: ``/api/health`` says 503 ``loading`` until they are ready.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from anyio import to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import BaseRoute, Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from server.adminauth import AdminAuth
from server.api import build_router
from server.documents import build_documents_router
from server.errors import install_error_handlers
from server.loading import ServiceSlot
from server.openai_api import build_openai_router
from server.pages import build_pages_router
from server.ratelimit import RateLimiter
from server.security import OriginGuard, SecurityHeaders
from server.uploads import UploadGate, build_admin_router
from settings import Settings, get_settings

if TYPE_CHECKING:  # importing the engine takes seconds: done in the background by _load
    from server.services import Services

log = logging.getLogger("passerelle.server")
WORKER_THREADS = 100  # 20 waiting conversations + Gradio's 32 chat turns + health, uploads

LOADING_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="3"><title>Passerelle</title></head>
<body style="font-family:system-ui,sans-serif;margin:3rem">
<h1>Passerelle</h1><p>Chargement de l'index et des modèles… La page se rafraîchit seule.</p>
<p lang="en">Loading the index and models… This page refreshes itself.</p></body></html>"""


def create_app(
    services: Services | None = None,
    *,
    settings: Settings | None = None,
    mount_ui: bool = True,
) -> FastAPI:
    """The whole web application; give ``services``, or ``settings`` to load them lazily."""
    if services is None and settings is None:
        raise ValueError("create_app needs services or settings")
    settings = services.settings if services is not None else settings
    assert settings is not None
    slot = ServiceSlot(services)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Questions waiting for the model's turn each hold a worker thread (server/scheduler.py);
        # anyio's default of 40, shared by the API and the Gradio chat, could leave
        # /api/health waiting behind them under load.
        to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        async with contextlib.AsyncExitStack() as stack:
            task = None
            if slot.services is None:
                task = asyncio.create_task(_load(app, slot, settings, stack, mount_ui))
            yield
            if task is not None:
                task.cancel()

    app = FastAPI(
        title="Passerelle",
        summary="Questions en français sur vos documents, avec citations vérifiables.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if settings.api_docs else None,  # Swagger UI comes from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.slot = slot
    app.state.limiter = RateLimiter()  # questions: shared by /api/* and the Gradio chat
    app.state.admin_auth = AdminAuth(settings.admin_token)
    install_error_handlers(app)
    app.include_router(build_router(settings))
    app.include_router(build_openai_router(settings))  # /v1: OpenAI-compatible, API keys
    app.include_router(build_pages_router())
    app.include_router(build_documents_router())  # /documents/<path>: citation links
    app.include_router(
        build_admin_router(app.state.admin_auth, settings.data_dir / "feedback.sqlite3")
    )

    # Middleware added last runs first: forwarded headers (trusted proxies only), the Host
    # check (DNS rebinding), CORS preflights, the origin guard, then the upload gate.
    origins = settings.allowed_origin_list
    app.add_middleware(SecurityHeaders, allowed_origins=origins)
    app.add_middleware(UploadGate, auth=app.state.admin_auth)
    app.add_middleware(
        OriginGuard, allowed_origins=origins, prefixes=("/api/", "/gradio_api/", "/admin/")
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-Passerelle-Session"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_host_list)
    if settings.trusted_proxy_list:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)

    if services is not None and mount_ui:
        _mount_ui(app, services)
    else:
        app.router.routes.append(_placeholder_root(loading=services is None))
    return app


def _placeholder_root(loading: bool) -> BaseRoute:
    async def root(_request: object) -> Response:
        if loading:
            return HTMLResponse(LOADING_PAGE, 503, headers={"Retry-After": "3"})
        return RedirectResponse("/embed")

    return Route("/", root, methods=["GET", "HEAD"], name="placeholder_root")


def _mount_ui(app: FastAPI, services: Services) -> bool:
    """Mount the Gradio chat at ``/``; without ``ui.chat`` (or if it fails) ``/`` is ``/embed``."""
    try:
        import gradio as gr

        from ui import chat
    except ImportError as exc:
        log.warning("chat UI not mounted (%s); / redirects to /embed", exc)
        app.router.routes.append(_placeholder_root(loading=False))
        return False
    try:
        blocks = chat.build_ui(services, app.state.limiter, app.state.admin_auth)
        gr.mount_gradio_app(
            app,
            blocks,
            path="/",
            footer_links=[],
            max_file_size=services.settings.max_file_bytes,  # the ingest limit, 1 MB = 10^6 B
        )
        # Gradio checks that event inputs name files of its upload folder only once
        # launch() ran; a mounted app never launches, so any server path would be copied
        # (probe of issue 10). Arm that check: it is what has_launched gates.
        blocks.has_launched = True
    except Exception:
        log.exception("chat UI failed to build; / redirects to /embed")
        app.router.routes.append(_placeholder_root(loading=False))
        return False
    return True


async def _load(
    app: FastAPI,
    slot: ServiceSlot,
    settings: Settings,
    stack: contextlib.AsyncExitStack,
    mount_ui: bool,
) -> None:
    """Load services off the event loop, then swap the loading page for the chat UI."""
    try:
        services = await run_in_threadpool(_load_services, settings)
    except Exception as exc:
        log.exception("loading the index and answer engine failed")
        slot.error = f"{type(exc).__name__}: {exc}"
        return
    placeholder = [r for r in app.router.routes if getattr(r, "name", "") == "placeholder_root"]
    if mount_ui and _mount_ui(app, services):
        # mount_gradio_app expects to run inside the app's lifespan; we are past startup,
        # so enter Gradio's own lifespan and startup events here instead.
        gradio_app = app.router.routes[-1].app  # type: ignore[attr-defined]
        await stack.enter_async_context(gradio_app.router.lifespan_context(gradio_app))
        gradio_app.get_blocks().run_startup_events()
        await gradio_app.get_blocks().run_extra_startup_events()
    elif not mount_ui:
        app.router.routes.append(_placeholder_root(loading=False))
    for route in placeholder:
        app.router.routes.remove(route)
    slot.services = services
    log.info("Passerelle ready")


def _load_services(settings: Settings) -> Services:
    from server.services import Services

    services = Services.load(settings)
    # Open the store now, in this one thread: first uses racing from several threads
    # (health checks, the chat UI being built) can trip Chroma's client creation.
    services.index.status()
    return services


def serve(args: argparse.Namespace) -> int:
    """``passerelle serve``: one process for the chat UI, the API and the widget."""
    import uvicorn

    settings = get_settings()
    host = getattr(args, "host", None) or settings.host
    port = getattr(args, "port", None) or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})  # allowed Host names
    app = create_app(settings=settings)
    shown = f"[{host}]" if ":" in host else host
    print(f"Passerelle : http://{shown}:{port}/  (API /docs · widget /widget.js · /embed)")
    if not settings.allowed_origin_list:
        print("Widget : même origine uniquement (PASSERELLE_ALLOWED_ORIGINS vide).")
    try:
        # proxy_headers=False: uvicorn would trust X-Forwarded-For from 127.0.0.1;
        # create_app trusts exactly PASSERELLE_TRUSTED_PROXIES instead.
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
    except SystemExit as exc:  # uvicorn exits when it cannot bind the port
        print(f"Impossible de servir sur {host}:{port} (port occupé ?).", file=sys.stderr)
        return int(exc.code or 1)
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after its graceful shutdown
        print("Passerelle arrêtée.")
    return 0
