"""A small web site served on 127.0.0.1 for the web-source tests and benchmark.

``LocalSite`` serves ``pages`` (path → HTML, editable while it runs), ``robots.txt``,
redirects and forced statuses, answers ``If-None-Match`` with 304 from an ETag of each
body, and logs every request as ``(path, status)``.
"""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


def page_html(title: str, body: str, links: list[str] = ()) -> str:
    """A page as a CMS writes it: menu, header, the article, footer."""
    menu = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>{title}</title>"
        "</head><body><header><p>Mission Bassin Minier · Menu principal</p>"
        f"<nav><ul><li><a href='/'>Accueil</a></li>{menu}</ul></nav></header>"
        f"<main><article><h1>{title}</h1>{body}</article></main>"
        "<footer><p>Mentions légales · Plan du site · © 2026 Mission Bassin Minier</p>"
        "</footer></body></html>"
    )


def sitemap_xml(base: str, paths: list[str]) -> str:
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )


class LocalSite:
    """A threaded HTTP server; ``pages``, ``robots``, ``redirects`` and ``statuses`` may be
    changed between requests."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}  # path -> body (HTML, or XML for sitemaps)
        self.robots = "User-agent: *\nDisallow:\n"
        self.redirects: dict[str, str] = {}  # path -> Location
        self.statuses: dict[str, int] = {}  # path -> forced status (500, 410…)
        self.log: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site._answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LocalSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests_for(self, path: str) -> list[int]:
        """Statuses answered to ``path``, in order."""
        with self._lock:
            return [status for p, status in self.log if p == path]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        status, body, headers = self._response(path, handler.headers.get("If-None-Match"))
        with self._lock:
            self.log.append((path, status))
        data = body.encode("utf-8")
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _response(self, path: str, if_none_match: str | None) -> tuple[int, str, dict]:
        if path in self.statuses:
            return self.statuses[path], "erreur", {"Content-Type": "text/plain"}
        if path in self.redirects:
            return 301, "", {"Location": self.redirects[path]}
        if path == "/robots.txt":
            return 200, self.robots, {"Content-Type": "text/plain"}
        if path not in self.pages:
            return 404, "introuvable", {"Content-Type": "text/plain"}
        body = self.pages[path]
        etag = '"' + hashlib.sha1(body.encode()).hexdigest()[:16] + '"'
        kind = "application/xml" if body.startswith("<?xml") else "text/html; charset=utf-8"
        headers = {"Content-Type": kind, "ETag": etag}
        if if_none_match == etag:
            return 304, "", {"ETag": etag}
        return 200, body, headers
