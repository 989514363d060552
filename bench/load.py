"""Many people at once: N conversations for T seconds against a served app (``/api/chat``).

Each conversation asks a question, reads the streamed answer, waits ``--read`` seconds
(reading), then asks its next question: a fresh one or a follow-up of the previous answer
(with the conversation as history). ``/api/health`` is polled every 0.5 s throughout.
With ``--ingest``, a seed document is changed and re-indexed (``passerelle ingest``, the
everyday command, in its own process) over and over while the conversations run.

Without ``--url`` the bench serves the app itself: a copy of the seed corpus, its own
data folder, ``passerelle serve`` on a free 127.0.0.1 port (rate limits raised: every
conversation comes from the same address), stopped at the end. Only 127.0.0.1 is
accepted, and the run is bounded: no question starts after ``--seconds``, each waits at
most ``--timeout``.

    .venv/bin/python -m bench.load [--conversations 20] [--seconds 60] [--ingest]
        [--generator local|extractive] [--llm-server SLOTS] [--url http://127.0.0.1:7860]
        [--label NAME]

Prints and writes ``bench/results/load-<generator>[-ingest][-label].json``: p50/p95 of
time to first token and of total time, share of answers written by the model, errors,
health latency.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

from bench.common import cache_dir, percentile, write_result
from settings import ROOT, Settings

PASSERELLE = Path(sys.executable).parent / "passerelle"
SEED = ROOT / "corpus"
CHANGED = "mission-bassin-minier-international.txt"

# Questions written for this bench about the seed corpus (not from ../shared/eval), each
# with follow-ups that only make sense after it.
SCRIPT: list[tuple[str, list[str]]] = [
    ("Quand la Mission Bassin Minier a-t-elle été créée ?",
     ["Avec quelles régions a-t-elle échangé ?", "Et dans quel programme européen ?"]),
    ("Qu'est-ce que le programme RESCUE ?",
     ["Combien de régions européennes y ont participé ?", "À quoi ont abouti les travaux ?"]),
    ("Qui est la directrice de la Mission Bassin Minier ?",
     ["Quel est son numéro de téléphone ?", "Et son adresse électronique ?"]),
    ("Quel accord la Région a-t-elle signé avec le Minas Gerais ?",
     ["À quelle date ?", "Quels thèmes concerne-t-il ?"]),
    ("Quel est le rôle de la MBM dans la coopération avec le Brésil ?",
     ["Qui coordonne le programme en France ?", "Combien de sites brésiliens sont concernés ?"]),
    ("Combien d'opérateurs du Nord-Pas de Calais se sont mobilisés de 2007 à 2013 ?",
     ["Et combien de projets ont été soutenus ?", "Avec quel budget ?"]),
    ("Que fait le programme Interreg France-Wallonie-Vlaanderen ?",
     ["Depuis combien de temps existe-t-il ?"]),
    ("Quel projet facilite l'accès aux soins de part et d'autre de la frontière ?",
     ["Comment les patients sont-ils remboursés ?"]),
    ("Qu'est-ce que le Parc Naturel Transfrontalier du Hainaut ?",
     ["Combien d'hectares gère-t-il ?", "A-t-il reçu une distinction ?"]),
    ("What did the Mission Bassin Minier do with Brazil?",
     ["Which Brazilian state signed an agreement?"]),
    ("Quels sont les partenaires de la coopération avec le Brésil ?",
     ["Le Centre Historique Minier de Lewarde en fait-il partie ?"]),
    ("Quel projet met en valeur la mémoire de la Grande Guerre ?",
     ["Quel site web le présente ?"]),
]  # fmt: skip
CITE = re.compile(r"\[(\d+)\]")


@dataclass
class Turn:
    """One question of one conversation, as the client saw it."""

    conversation: int
    follow_up: bool
    status: int = 0
    error: str = ""
    first_token_s: float | None = None
    total_s: float | None = None
    generator: str = ""
    answerable: bool = False
    cited_ok: bool = False


@dataclass
class Run:
    turns: list[Turn] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    health_errors: int = 0
    ingests: list[float] = field(default_factory=list)
    ingest_failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def ask(client: httpx.Client, url: str, session: str, question: str, history: list[dict],
        turn: Turn, timeout: float) -> str:  # fmt: skip
    """Stream one answer from ``/api/chat`` into ``turn``; returns the answer text."""
    start = time.perf_counter()
    answer = ""
    try:
        with client.stream(
            "POST",
            f"{url}/api/chat",
            json={"question": question, "history": history},
            headers={"X-Passerelle-Session": session},
            timeout=httpx.Timeout(timeout, connect=10),
        ) as response:
            turn.status = response.status_code
            if response.status_code != 200:
                turn.error = f"HTTP {response.status_code}: {response.read()[:200]!r}"
                return ""
            event = ""
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event:
                    now = time.perf_counter() - start
                    if event in ("token", "answer") and turn.first_token_s is None:
                        turn.first_token_s = now
                    if event == "answer":
                        data = json.loads(line[5:])
                        turn.total_s = now
                        turn.generator = data.get("generator", "")
                        turn.answerable = bool(data.get("answerable"))
                        answer = data.get("answer", "")
                        cited = {int(n) for n in CITE.findall(answer)}
                        numbers = {c["n"] for c in data.get("citations", [])}
                        turn.cited_ok = not turn.answerable or bool(cited) and cited <= numbers
                    elif event == "error":
                        turn.error = line[5:].strip()[:200]
    except (httpx.HTTPError, ValueError) as exc:
        turn.error = f"{type(exc).__name__}: {exc}"
    if turn.total_s is None and not turn.error:
        turn.error = "stream ended without an answer"
    return answer


def conversation(n: int, url: str, run: Run, deadline: float, args: argparse.Namespace) -> None:
    """Questions until ``deadline``: fresh ones and follow-ups, ``args.read`` s apart."""
    rng = random.Random(n)
    session = f"load-{n}"
    history: list[dict] = []
    follow_ups: list[str] = []
    time.sleep(rng.uniform(0, min(args.read, 5)))  # visitors do not all arrive at once
    with httpx.Client() as client:
        for _ in range(args.max_questions):
            if time.monotonic() >= deadline:
                return
            if follow_ups and rng.random() < 0.5:
                question, turn = follow_ups.pop(0), Turn(n, True)
            else:
                question, follow_ups = rng.choice(SCRIPT)
                follow_ups, history, turn = list(follow_ups), [], Turn(n, False)
            answer = ask(client, url, session, question, history, turn, args.timeout)
            with run.lock:
                run.turns.append(turn)
            history = [*history, {"role": "user", "content": question},
                       {"role": "assistant", "content": answer}][-8:]  # fmt: skip
            time.sleep(args.read)


def poll_health(url: str, run: Run, stop: threading.Event) -> None:
    """GET /api/health every 0.5 s; latency of each, errors counted."""
    with httpx.Client() as client:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                ok = client.get(f"{url}/api/health", timeout=30).status_code == 200
            except httpx.HTTPError:
                ok = False
            with run.lock:
                run.health_ms.append((time.perf_counter() - start) * 1000)
                run.health_errors += not ok
            stop.wait(0.5)


def keep_ingesting(env: dict[str, str], run: Run, stop: threading.Event) -> None:
    """Change a seed document and re-index it, again and again until ``stop``."""
    path = Path(env["PASSERELLE_CORPUS_DIR"]) / CHANGED
    original = path.read_text(encoding="utf-8")
    n = 0
    while not stop.is_set():
        n += 1
        path.write_text(
            original + f"\n\nMise à jour {n} : la lettre d'information n° {n} est parue.\n",
            encoding="utf-8",
        )
        start = time.perf_counter()
        proc = subprocess.run([str(PASSERELLE), "ingest", "--json"], env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        with run.lock:
            if proc.returncode == 0 and json.loads(proc.stdout)["updated"]:
                run.ingests.append(time.perf_counter() - start)
            else:
                run.ingest_failures += 1
        stop.wait(1.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    root: Path,
    generator: str | None,
    code: Path | None = None,
    llm_server: int = 0,
    memo_size: int | None = None,
) -> tuple[str, subprocess.Popen, dict]:
    """Seed corpus copy, first ingest, ``passerelle serve``; (url, process, env).

    ``code``: serve another checkout of Passerelle (e.g. ``git archive HEAD``), with the
    model file of this one. ``llm_server``: that many slots of a managed llama-server.
    ``memo_size``: the model's texts kept by prompt (0: none; None: the default).
    """
    shutil.copytree(SEED, root / "corpus")
    for file in (root / "corpus").iterdir():
        file.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_")}
    env |= {
        "PASSERELLE_DATA_DIR": str(root / "data"),
        "PASSERELLE_CORPUS_DIR": str(root / "corpus"),
        "PASSERELLE_RATE_LIMIT_PER_MINUTE": "100000",  # every conversation is 127.0.0.1
        "PASSERELLE_SESSION_RATE_LIMIT_PER_MINUTE": "1000",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    if generator:
        env["PASSERELLE_GENERATOR"] = generator
    if llm_server:
        env |= {"PASSERELLE_LLM_SERVER": "1", "PASSERELLE_LLM_PARALLEL": str(llm_server)}
    if memo_size is not None:
        env["PASSERELLE_MEMO_SIZE"] = str(memo_size)
    if code is not None:
        env["PYTHONPATH"] = str(code)  # ahead of this checkout's editable install
        env["PASSERELLE_LLM_PATH"] = str(Settings().llm_path)
    setup = {**env, "PASSERELLE_INGEST_NICE": "0"}  # the first index: nothing to answer yet
    subprocess.run([str(PASSERELLE), "ingest", "--json"], env=setup, cwd=root,
                   check=True, capture_output=True, timeout=1800)  # fmt: skip
    port = free_port()
    log = open(root / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(PASSERELLE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return f"http://127.0.0.1:{port}", proc, env


def wait_ready(url: str, timeout: float = 1200, proc: subprocess.Popen | None = None) -> float:
    """Seconds until /api/health answers 200."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout} s")


def summary(
    run: Run, args: argparse.Namespace, generator: str, ingest: bool, wall_s: float
) -> dict:
    done = [t for t in run.turns if not t.error]
    first = [t.first_token_s for t in done if t.first_token_s is not None]
    total = [t.total_s for t in done if t.total_s is not None]
    model = [t for t in done if t.generator and t.generator != "extractive"]

    def ms(values: list[float], q: int) -> float | None:
        return round(percentile(values, q) * 1000) if values else None

    return {
        "conversations": args.conversations,
        "seconds": args.seconds,
        "read_seconds": args.read,
        "generator_setting": generator,
        "ingest_running": ingest,
        "wall_seconds": round(wall_s, 1),
        "questions": len(run.turns),
        "follow_ups": sum(t.follow_up for t in run.turns),
        "answers": len(done),
        "errors": len(run.turns) - len(done),
        "error_samples": sorted({t.error for t in run.turns if t.error})[:5],
        "answerable": sum(t.answerable for t in done),
        "answerable_and_cited": sum(t.answerable and t.cited_ok for t in done),
        "uncited_answers": sum(t.answerable and not t.cited_ok for t in done),
        "written_by_model_share": round(len(model) / len(done), 3) if done else None,
        "generators": {g: sum(t.generator == g for t in done) for g in {t.generator for t in done}},
        "code": str(args.code or ROOT),
        "first_token_ms_p50": ms(first, 50),
        "first_token_ms_p95": ms(first, 95),
        "total_ms_p50": ms(total, 50),
        "total_ms_p95": ms(total, 95),
        "total_ms_max": round(max(total) * 1000) if total else None,
        "health_polls": len(run.health_ms),
        "health_errors": run.health_errors,
        "health_ms_p50": round(percentile(run.health_ms, 50), 1) if run.health_ms else None,
        "health_ms_p95": round(percentile(run.health_ms, 95), 1) if run.health_ms else None,
        "health_ms_max": round(max(run.health_ms), 1) if run.health_ms else None,
        "ingests_completed": len(run.ingests),
        "ingest_failures": run.ingest_failures,
        "ingest_seconds_p50": round(percentile(run.ingests, 50), 2) if run.ingests else None,
    }


def phase(url: str, env: dict, args: argparse.Namespace, generator: str, ingest: bool) -> dict:
    """One run of ``args.conversations`` for ``args.seconds``, re-indexing if ``ingest``."""
    run = Run()
    load_start = os.getloadavg()
    stop = threading.Event()
    helpers = [threading.Thread(target=poll_health, args=(url, run, stop), daemon=True)]
    if ingest:
        helpers.append(threading.Thread(target=keep_ingesting, args=(env, run, stop), daemon=True))
    for helper in helpers:
        helper.start()
    start = time.monotonic()
    deadline = start + args.seconds
    threads = [
        threading.Thread(target=conversation, args=(n, url, run, deadline, args), daemon=True)
        for n in range(args.conversations)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.seconds + args.timeout + args.read + 10)
    stop.set()
    for helper in helpers:
        helper.join(120)
    result = summary(run, args, generator, ingest, time.monotonic() - start)
    # the scheduler's own counts: turns given to the model, quick answers (model busy),
    # questions answered without needing the model ...
    # and the model's texts reused for identical prompts (answer/generators/memo.py)
    try:
        health = httpx.get(f"{url}/api/health", timeout=10).json()
        result["scheduler"], result["memo"] = health.get("queue"), health.get("memo")
    except (httpx.HTTPError, ValueError):
        result["scheduler"] = result["memo"] = None
    # 2 shared cores: the other work on the machine during the run, next to its numbers
    result["load_average_start"] = [round(x, 2) for x in load_start]
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60, help="no question starts after")
    parser.add_argument("--read", type=float, default=10, help="reading time between questions")
    parser.add_argument("--ingest", action="store_true", help="re-index during the test")
    parser.add_argument("--compare", action="store_true", help="a run without, then with ingest")
    parser.add_argument("--generator", default=None, help="for the server the bench starts")
    parser.add_argument("--url", default=None, help="an already served app on 127.0.0.1")
    parser.add_argument("--timeout", type=float, default=300, help="longest wait per answer")
    parser.add_argument("--max-questions", type=int, default=50, help="per conversation")
    parser.add_argument("--code", type=Path, default=None, help="serve this checkout instead")
    parser.add_argument("--llm-server", type=int, default=0,
                        help="serve the local model through llama-server with N slots")  # fmt: skip
    parser.add_argument("--label", default="")
    parser.add_argument("--memo-size", type=int, default=None,
                        help="model texts kept by prompt (0: off; default: the setting's)")
    args = parser.parse_args()
    if not 1 <= args.conversations <= 200 or not 0 < args.seconds <= 3600:
        parser.error("1-200 conversations, at most 3600 seconds")

    root = Path(tempfile.mkdtemp(prefix="passerelle-bench-load-"))
    proc = None
    env: dict[str, str] = {}
    try:
        if args.url:
            url = args.url.rstrip("/")
            if urlparse(url).hostname != "127.0.0.1":
                parser.error("--url must be on 127.0.0.1")
            if args.ingest or args.compare:
                parser.error("--ingest needs the bench's own server (no --url)")
            generator = args.generator or "?"
        else:
            url, proc, env = start_server(
                root, args.generator, args.code, args.llm_server, args.memo_size
            )
            generator = env.get("PASSERELLE_GENERATOR", "local")
        ready_s = wait_ready(url, proc=proc)
        print(
            f"server ready at {url} in {ready_s:.1f} s; {args.conversations} conversations "
            f"for {args.seconds:g} s ({generator})"
        )
        phases = [False, True] if args.compare else [args.ingest]
        results = [phase(url, env, args, generator, ingest) for ingest in phases]
    finally:
        log = root / "server.log"
        if log.exists():  # kept for a look at errors: the bench's folder is removed
            shutil.copy(log, cache_dir("load") / "server.log")
        if proc is not None and proc.poll() is not None and log.exists():
            print(f"the server exited ({proc.returncode}); its log ends with:", file=sys.stderr)
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(root, ignore_errors=True)
    for result in results:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    if args.compare:
        name, payload = f"load-{generator}-compare", {"without_ingest": results[0],
                                                       "with_ingest": results[1]}  # fmt: skip
    else:
        name, payload = f"load-{generator}" + ("-ingest" if args.ingest else ""), results[0]
    name += f"-{args.label}" if args.label else ""
    print(f"written {write_result(name, payload)}")


if __name__ == "__main__":
    main()
