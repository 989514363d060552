"""The ``passerelle`` command: one sub-command per user task, each delegated to its stage."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from pathlib import Path

GENERATORS = ["local", "openai", "extractive"]


def build_parser() -> argparse.ArgumentParser:
    """Arguments of every sub-command (implementations live in their stage's package)."""
    parser = argparse.ArgumentParser(prog="passerelle", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="mirror the corpus folder (and web sources) into the index")
    p.add_argument(
        "path",
        nargs="?",
        default=None,
        help="folder (default: corpus/ and sources.toml), or a sitemap, page or site URL",
    )
    p.add_argument("--depth", type=int, default=None, help="links followed from a page URL")
    p.add_argument("--watch", action="store_true", help="re-index the folder when it changes")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("status", help="documents, chunks, embedding model, store")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("search", help="ranked passages for a question")
    p.add_argument("question", nargs="?", default=None)
    p.add_argument("--k", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--jsonl", action="store_true", help="read {id, question} lines on stdin")

    p = sub.add_parser("ask", help="a cited answer to a question")
    p.add_argument("question", nargs="?", default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--jsonl", action="store_true", help="read {id, question, history} lines")
    p.add_argument("--generator", choices=GENERATORS, default=None)

    p = sub.add_parser("eval", help="score answers on an evaluation file")
    p.add_argument("file", type=Path, help="a JSONL file, or a folder of seed-<split> files")
    p.add_argument("--split", choices=["dev", "test"], default=None, help="tune on dev only")
    p.add_argument("--generator", choices=GENERATORS, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions")

    p = sub.add_parser("serve", help="chat UI, HTTP API and widget on one server")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)

    from server import keys  # light: no server framework imported

    keys.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``passerelle`` script."""
    args = build_parser().parse_args(argv)
    if args.command in ("ingest", "status", "search"):
        own_process = argv is None  # the ``passerelle`` script, not a caller's main([...])
        if own_process and args.command == "ingest":
            _lower_own_priority()
        if own_process:  # chromadb and llama-index make about a million objects, no garbage:
            gc.disable()  # collecting during their imports cost ~0.25 s of `passerelle search`
        from index import commands

        if args.command == "search":
            from index import retrieve  # noqa: F401  (llama-index, imported here with gc paused)
        if own_process:
            gc.freeze()  # later collections skip the libraries' objects
            gc.enable()
        code = getattr(commands, args.command)(args)
        if own_process and args.command != "ingest":
            _exit_now(code)
        return code
    if args.command == "ask":
        from answer import commands as answer_commands

        return answer_commands.ask(args)
    if args.command == "eval":
        from evaluation import commands as eval_commands

        return eval_commands.run(args)
    if args.command == "keys":
        from server import keys

        return keys.command(args)
    import app

    return app.serve(args)


def _lower_own_priority() -> None:
    """Run this whole ``passerelle ingest`` process at the ingest's priority
    (``PASSERELLE_INGEST_NICE``), its start as well as its embedding: importing chromadb
    and llama-index and loading the embedding model take about 3 s of CPU, which a chat
    served on the same cores needs more. Alone on the machine it runs as fast. Its own
    process: never raised back. Not ``index.priority``, which lowers one thread: that
    module imports llama-index, the very start this must come before."""
    from settings import Settings

    with contextlib.suppress(OSError, ValueError):
        os.nice(max(0, Settings().ingest_nice - os.nice(0)))


def _exit_now(code: int) -> None:
    """End a read-only command without the interpreter's teardown.

    Finalizing the ~1,700 modules of chromadb and llama-index took 0.3-0.5 s after
    ``status`` or ``search`` had printed. They only read the store: what they write
    (their output, flushed here; a rebuilt keyword index cache) is complete and closed
    when they return.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (| head): no reader
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
