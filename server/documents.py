"""``GET /documents/<path>``: the file of an indexed document, where citations lead back.

Only a path that the index holds as a document is served (anything else, ``..`` included,
is 404, as is a document outside the caller's collections: the chat UI's collections, as
for ``/?source=``, or those of the API key sent). The file is read from the corpus folder
and must resolve inside it. HTML is served under ``Content-Security-Policy: sandbox``: a
script inside a document never runs with this site's origin.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from index.collections import METADATA_KEY, Scope, allows, parse_scope
from index.links import is_url
from server.admission import Refused
from server.scope import caller_of, collection_config

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rtf"}
INLINE_SUFFIXES = {".pdf", ".html", ".htm", *TEXT_SUFFIXES}


def _not_found() -> Response:
    return JSONResponse(
        {"error": "not_found", "detail": "Document introuvable. / Document not found."}, 404
    )


def reader_scope(request: Request) -> Scope:
    """An API key's collections when one is sent, else the chat UI's (``/?source=``)."""
    if request.headers.get("authorization") is not None:
        return caller_of(request).scope
    state = request.app.state
    return parse_scope(state.settings.chat_collections, collection_config(state))


def indexed_file(request: Request, source: str) -> Path | None:
    """The corpus file of indexed document ``source`` if the caller may read it."""
    services = request.app.state.slot.services
    if services is None or is_url(source):
        return None
    doc = services.index.docstore().get_document(source, raise_error=False)
    if doc is None or not allows(reader_scope(request), doc.metadata.get(METADATA_KEY)):
        return None
    root = Path(services.settings.corpus_dir).resolve()
    path = (root / source).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def build_documents_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.api_route("/documents/{source:path}", methods=["GET", "HEAD"])
    async def document(source: str, request: Request) -> Response:
        try:
            path = indexed_file(request, source)
        except Refused as refused:
            return JSONResponse({"error": refused.code, "detail": refused.detail}, refused.status)
        if path is None:
            return _not_found()
        suffix = path.suffix.lower()
        media = "text/plain; charset=utf-8" if suffix in TEXT_SUFFIXES else None
        media = media or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers = {"Cache-Control": "no-cache"}
        if suffix != ".pdf":  # Chromium's PDF viewer does not run in a sandboxed page
            headers["Content-Security-Policy"] = "sandbox"
        return FileResponse(
            path,
            media_type=media,
            headers=headers,
            filename=path.name,
            content_disposition_type="inline" if suffix in INLINE_SUFFIXES else "attachment",
        )

    return router
