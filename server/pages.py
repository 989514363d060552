"""Routes that are not API: the widget script, the ``/embed`` page and the demo host page."""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
WIDGET_JS = WIDGET_DIR / "widget.js"
DEMO_BASE = "http://127.0.0.1:7860"  # the widget URL written in widget/demo.html


def build_pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.api_route("/widget.js", methods=["GET", "HEAD"])
    async def widget_js() -> FileResponse:
        # An hour of caching; ETag/Last-Modified let browsers revalidate cheaply after that.
        return FileResponse(
            WIDGET_JS,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @router.get("/embed")
    async def embed(
        title: str | None = Query(None, max_length=120),
        greeting: str | None = Query(None, max_length=500),
        lang: str | None = Query(None, max_length=5),
        color: str | None = Query(None, max_length=20),
        starters: str | None = Query(None, max_length=1000),
        collection: str | None = Query(None, max_length=63),
    ) -> HTMLResponse:
        """Full-page chat for an ``<iframe>``; query parameters mirror the data- options
        (``collection`` is checked by the API at each question, like the widget's)."""
        values = dict(
            title=title,
            greeting=greeting,
            lang=lang,
            color=color,
            starters=starters,
            collection=collection,
        )
        attrs = "".join(
            f' data-{name}="{escape(value, quote=True)}"' for name, value in values.items() if value
        )
        page = Template((WIDGET_DIR / "embed.html").read_text("utf-8")).substitute(
            attrs=attrs,
            lang="en" if lang == "en" else "fr",
            title=escape(title or "Assistant Passerelle"),
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    @router.get("/demo")
    async def demo(request: Request) -> HTMLResponse:
        """``widget/demo.html`` served by this server, pointing at this server."""
        base = str(request.base_url).rstrip("/")
        page = (WIDGET_DIR / "demo.html").read_text("utf-8").replace(DEMO_BASE, base)
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    return router
