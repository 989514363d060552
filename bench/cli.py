"""Wall and CPU time of ``passerelle status`` and ``passerelle search`` (whole commands,
Python start-up and imports included), over an index of the seed corpus.

CPU time (user + system) is also given: on a shared machine the wall time mostly
measures the other processes, the CPU time is what the command itself costs.

    .venv/bin/python -m bench.cli [--runs 5] [--label NAME]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import percentile, write_result
from settings import ROOT

PASSERELLE = Path(sys.executable).parent / "passerelle"
COMMANDS = {
    "status": ["status"],
    "search": ["search", "Qui est la directrice de la Mission Bassin Minier ?"],
}
HEAVY = ("llama_index.core", "sklearn", "torch", "gradio", "llama_cpp", "transformers")


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(PASSERELLE), *args], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def imported(args: list[str], env: dict[str, str], code: Path = ROOT) -> list[str]:
    """Heavy packages a command imports."""
    program = (
        "import sys; from cli import main; main(sys.argv[1:]);"
        f"print('@', [m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", program, *args], env=env, cwd=code,
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    return eval(out.rsplit("@", 1)[1])  # noqa: S307 - our own printed list


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--label", default="")
    parser.add_argument("--code", type=Path, default=None, help="time another checkout")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="passerelle-bench-cli-"))
    try:
        shutil.copytree(ROOT / "corpus", root / "corpus")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_")}
        env["PASSERELLE_DATA_DIR"] = str(root / "data")
        env["PASSERELLE_CORPUS_DIR"] = str(root / "corpus")
        env["PASSERELLE_INGEST_NICE"] = "0"
        if args.code is not None:
            env["PYTHONPATH"] = str(args.code)  # ahead of this checkout's editable install
        subprocess.run([str(PASSERELLE), "ingest"], env=env, check=True, capture_output=True)
        result: dict = {"runs": args.runs, "code": str(args.code or ROOT),
                        "load_average_before": os.getloadavg()[0]}  # fmt: skip
        for name, command in COMMANDS.items():
            timed(command, env)  # warm: files in the page cache
            runs = [timed(command, env) for _ in range(args.runs)]
            walls, cpus = [w for w, _ in runs], [c for _, c in runs]
            result[name] = {
                "wall_s_min": round(min(walls), 2),
                "wall_s_p50": round(percentile(walls, 50), 2),
                "cpu_s_min": round(min(cpus), 2),
                "cpu_s_p50": round(percentile(cpus, 50), 2),
                "imports": imported(command, env, args.code or ROOT),
            }
        result["load_average_after"] = os.getloadavg()[0]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for key, value in result.items():
        print(f"{key:>20}: {value}")
    print(f"written {write_result('cli' + (f'-{args.label}' if args.label else ''), result)}")


if __name__ == "__main__":
    main()
