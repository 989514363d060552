"""Web sources: a 200-page site served on 127.0.0.1 (sitemap, ETags), first ingest, then
a no-op re-index. Targets: no-op < 5 s, 0 pages re-downloaded (issue 13).

    .venv/bin/python -m bench.web_sources [--pages 200]

The site answers at once and robots.txt asks nothing, so ``PASSERELLE_WEB_DELAY_S`` is
set to 0 here: with the default polite pause (0.5 s a request) the no-op would take
about 100 s, all of it waiting.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.common import write_result
from index.service import IndexService
from settings import ROOT, Settings

sys.path.insert(0, str(ROOT / "tests"))
from website import LocalSite, page_html, sitemap_xml  # noqa: E402

TOWNS = ["Lens", "Liévin", "Douai", "Valenciennes", "Béthune", "Hénin-Beaumont", "Oignies"]


def make_site(pages: int) -> LocalSite:
    """``pages`` pages of two invented paragraphs each, listed in /sitemap.xml."""
    site = LocalSite()
    paths = []
    for i in range(pages):
        town = TOWNS[i % len(TOWNS)]
        path = f"/projets/projet-{i:03d}.html"
        paths.append(path)
        site.pages[path] = page_html(
            f"Projet n° {i} à {town}",
            f"<p>Le projet n° {i} rénove {12 + i} logements de la cité minière de {town} "
            f"pour un montant de {1 + i % 9},{i % 10} millions d'euros.</p>"
            f"<p>Les travaux du projet n° {i} commencent en {2020 + i % 8} avec "
            f"{3 + i % 5} entreprises locales.</p>",
        )
    site.pages["/sitemap.xml"] = sitemap_xml(site.base, paths)
    return site.start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    site = make_site(args.pages)
    with tempfile.TemporaryDirectory(prefix="passerelle-bench-web-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        settings = Settings(
            data_dir=Path(tmp) / "data",
            corpus_dir=corpus,
            web_delay_s=0,
            web_max_pages=args.pages,
        )
        source_url = f"{site.base}/sitemap.xml"
        (Path(tmp) / "sources.toml").write_text(f'[[source]]\nurl = "{source_url}"\n')
        service = IndexService(settings)
        started = time.perf_counter()
        first = service.ingest()
        first_s = time.perf_counter() - started
        first_requests = len(site.log)

        site.clear_log()
        started = time.perf_counter()
        noop = service.ingest()
        noop_s = time.perf_counter() - started
        downloaded = sum(1 for path, status in site.log if path.endswith(".html") and status == 200)
        not_modified = sum(1 for _, status in site.log if status == 304)
    site.stop()
    result = {
        "pages": args.pages,
        "first_ingest": {
            "added": len(first.added),
            "failed": len(first.failed),
            "chunks": first.chunks,
            "seconds": round(first_s, 2),
            "requests": first_requests,
        },
        "noop": {
            "seconds": round(noop_s, 3),
            "pages_redownloaded": downloaded,
            "answered_304": not_modified,
            "requests": len(site.log),
            "unchanged": len(noop.unchanged),
            "added_updated_removed": len(noop.added) + len(noop.updated) + len(noop.removed),
        },
        "targets": {"noop_seconds": "< 5", "pages_redownloaded": 0},
        "load_average": round(os.getloadavg()[0], 1),
        "ok": noop_s < 5 and downloaded == 0 and len(noop.unchanged) == args.pages,
    }
    path = write_result("web-sources", result)
    print(
        f"first ingest: {len(first.added)} pages, {first.chunks} chunks, {first_s:.1f} s\n"
        f"no-op re-index: {noop_s:.2f} s (target < 5 s), {downloaded} pages re-downloaded "
        f"(target 0), {not_modified} answered 304 → {path}"
    )
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
