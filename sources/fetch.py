"""The HTTP client of web sources: robots.txt, a polite rate, same-site redirects,
conditional requests and a size limit, over one ``httpx.Client``.

- robots.txt (``urllib.robotparser``) is read once per site and run; a URL it disallows
  is never requested. A robots.txt answering 4xx allows everything, one answering 5xx
  disallows everything (RFC 9309); its ``Crawl-delay`` lengthens the pause.
- Requests to one site are at least ``web_delay_s`` apart.
- Redirects are followed (5 at most) only within the site: ``http``→``https`` of the same
  host is the same site, another host is not.
- ``If-None-Match`` / ``If-Modified-Since`` are sent when validators are given; a 304
  comes back as a ``Response`` with ``status`` 304 and no body.
- A connection that fails or times out raises ``SiteUnreachable``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from settings import Settings

MAX_REDIRECTS = 5
ROBOTS_AGENT = "Passerelle"  # the token robots.txt rules are matched against


class SiteUnreachable(RuntimeError):
    """The site does not answer (connection refused or reset, DNS failure, timeout)."""


class FetchError(RuntimeError):
    """One URL cannot be read (off-site redirect, too large, disallowed); the message says why."""


@dataclass
class Response:
    """What a request returned, after same-site redirects."""

    url: str  # final URL
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None


def site_of(url: str) -> str:
    """The site of ``url``: host and explicit port (the scheme may change within a site)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def same_site(a: str, b: str) -> bool:
    return site_of(a) == site_of(b)


class Fetcher:
    """One crawl's HTTP client; ``requests`` counts the requests it sent (robots.txt too)."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.delay = settings.web_delay_s
        self.max_bytes = settings.max_file_bytes
        self.client = httpx.Client(
            follow_redirects=False,
            timeout=settings.web_timeout_s,
            headers={"User-Agent": settings.web_user_agent},
            transport=transport,
        )
        self.requests = 0
        self._robots: dict[str, tuple[RobotFileParser, float]] = {}
        self._last: dict[str, float] = {}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- robots.txt
    def allowed(self, url: str) -> bool:
        """True if the site's robots.txt lets us read ``url`` (reads robots.txt once)."""
        robots, _ = self._robots_of(url)
        return robots.can_fetch(ROBOTS_AGENT, url)

    def _robots_of(self, url: str) -> tuple[RobotFileParser, float]:
        site = site_of(url)
        if site not in self._robots:
            robots = RobotFileParser()
            try:
                response = self._get(urljoin(url, "/robots.txt"), {}, robots_check=False)
            except FetchError:  # redirected off the site, too large: as if there were none
                response = Response(url, 404)
            if response.status == 200:
                robots.parse(response.body.decode("utf-8", "replace").splitlines())
            elif response.status >= 500:
                robots.disallow_all = True
            else:  # 4xx (none there): everything is allowed
                robots.allow_all = True
            delay = robots.crawl_delay(ROBOTS_AGENT) or 0
            self._robots[site] = (robots, max(self.delay, float(delay)))
        return self._robots[site]

    # ---------------------------------------------------------------- requests
    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Response:
        """GET ``url`` (conditional when validators are given); ``FetchError`` if robots.txt
        disallows it, ``SiteUnreachable`` if the site does not answer."""
        if not self.allowed(url):
            raise FetchError("disallowed by robots.txt")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._get(url, headers, robots_check=True)

    def _get(self, url: str, headers: dict[str, str], robots_check: bool) -> Response:
        start = url
        for _ in range(MAX_REDIRECTS + 1):
            response = self._request(url, headers)
            location = response.headers.get("location")
            if response.status_code not in (301, 302, 303, 307, 308) or not location:
                return self._read(url, response)
            response.close()
            target = urljoin(url, location)
            if not same_site(start, target):
                raise FetchError(f"redirects to another site ({target})")
            if robots_check and not self.allowed(target):
                raise FetchError(f"redirects to {target}, disallowed by robots.txt")
            url = target
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    def _request(self, url: str, headers: dict[str, str]) -> httpx.Response:
        site = site_of(url)
        delay = self._robots[site][1] if site in self._robots else self.delay
        wait = self._last.get(site, 0.0) + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            self.requests += 1
            request = self.client.build_request("GET", url, headers=headers)
            return self.client.send(request, stream=True)
        except (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
            raise SiteUnreachable(f"{site} does not answer ({type(exc).__name__}: {exc})") from exc
        except httpx.HTTPError as exc:
            raise SiteUnreachable(f"{site}: {type(exc).__name__}: {exc}") from exc
        finally:
            self._last[site] = time.monotonic()

    def _read(self, url: str, response: httpx.Response) -> Response:
        """The body (refused past ``max_file_mb``) and validators of a final response."""
        try:
            body = bytearray()
            if response.status_code == 200:
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise FetchError(
                            f"page over the {self.max_bytes / 1e6:g} MB limit "
                            "(PASSERELLE_MAX_FILE_MB)"
                        )
        except httpx.TransportError as exc:
            raise SiteUnreachable(f"{site_of(url)} stopped answering ({exc})") from exc
        finally:
            response.close()
        return Response(
            url=url,
            status=response.status_code,
            body=bytes(body),
            content_type=response.headers.get("content-type", "").split(";")[0].strip().lower(),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )
