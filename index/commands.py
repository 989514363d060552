"""``passerelle ingest | status | search``: thin command-line front of IndexService."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from index.links import is_url
from index.service import IndexService, IngestBusy
from index.store import StoreUnavailable
from index.types import IngestReport
from ingest.errors import DocumentError
from settings import get_settings


def _fail(message: str) -> int:
    print(f"passerelle: {message}", file=sys.stderr)
    return 2


def ingest(args: argparse.Namespace) -> int:
    """Mirror the corpus folder (and sources.toml), or index one web source; exit 1 if any
    document failed, 2 if the index cannot be used."""
    service = IndexService(get_settings())
    target = str(args.path) if args.path is not None else None
    try:
        if target and is_url(target):
            if args.watch:
                return _fail("--watch takes a folder, not a URL")
            from sources.config import make_source

            source = make_source(target, depth=args.depth or 0)
            report = service.ingest(web=[source], dry_run=args.dry_run, progress=not args.json)
        elif args.watch:
            from index.watch import watch

            folder = Path(target) if target else service.settings.corpus_dir
            print(f"watching {folder} (Ctrl+C to stop)", file=sys.stderr)
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C ends the watch
                watch(service, folder, lambda report: _print_report(report, args.json))
            return 0
        else:
            path = Path(target) if target else None
            report = service.ingest(path, dry_run=args.dry_run, progress=not args.json)
    except (StoreUnavailable, IngestBusy, FileNotFoundError, DocumentError) as exc:
        return _fail(str(exc))
    _print_report(report, args.json)
    return 1 if report.failed else 0


def _print_report(report: IngestReport, as_json: bool) -> None:
    """The plan as applied (``+ ~ - !`` lines and a summary), or one JSON object."""
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False), flush=True)
        return
    verb = "would be" if report.dry_run else ""
    for sign, names in (("+", report.added), ("~", report.updated), ("-", report.removed)):
        for name in names:
            print(f"{sign} {name}")
    for failure in report.failed:
        print(f"! {failure.path}: {failure.error}", file=sys.stderr)
    print(
        f"{len(report.added)} new, {len(report.updated)} changed, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed {verb}".rstrip()
        + f"; {len(report.failed)} failed; {report.chunks} chunks; {report.seconds:.1f} s",
        flush=True,
    )


def status(args: argparse.Namespace) -> int:
    """Documents, chunks, embedding model and store location."""
    try:
        info = IndexService(get_settings()).status()
    except StoreUnavailable as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        for key, value in info.items():
            print(f"{key:>16}: {value}")
    return 0


def search(args: argparse.Namespace) -> int:
    """Ranked passages for one question, or for each ``{id, question}`` line on stdin."""
    service = IndexService(get_settings())
    try:
        if args.jsonl:
            for line in sys.stdin:
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    question = str(row["question"])
                except (ValueError, KeyError, TypeError) as exc:
                    error = f"not a JSON object with a question ({exc})"
                    print(json.dumps({"id": None, "error": error}), flush=True)
                    continue
                passages = service.search(question, args.k)
                out = {"id": row.get("id"), "passages": [p.to_dict() for p in passages]}
                print(json.dumps(out, ensure_ascii=False), flush=True)
            return 0
        if not args.question:
            return _fail("give a QUESTION, or --jsonl to read questions on standard input")
        passages = service.search(args.question, args.k)
    except StoreUnavailable as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False))
        return 0
    for rank, p in enumerate(passages, start=1):
        page = f", p. {p.page}" if p.page else ""
        print(f"[{rank}] {p.title}{page} — {p.source} ({p.score:.4f})")
        print("    " + p.text[:300].replace("\n", " ") + ("…" if len(p.text) > 300 else ""))
    return 0
