"""The bundled model served by llama.cpp's own ``llama-server``, started and stopped here.

``PASSERELLE_LLM_SERVER=1``: instead of one llama.cpp context in the Python process (one
answer at a time), Passerelle runs ``llama-server`` on a free port of 127.0.0.1 with
``llm_parallel`` slots and continuous batching, and talks to it through the ``openai``
generator. The user still runs one command. The binary is built by ``scripts/setup.sh``
from the llama.cpp sources vendored in llama-cpp-python, into ``.venv/bin/llama-server``.

Written by hand: llama-cpp-python starts no ``llama-server``, and its own server
(``python -m llama_cpp.server``) has no parallel slots.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from answer.errors import GeneratorUnavailable
from answer.generators.base import ChatMessage
from answer.generators.openai import OpenAIGenerator
from settings import Settings

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 300.0  # loading the 1 GB model from a cold disk on 2 cores
# The local generator's sampling, so that both backends write the same answers.
SAMPLING = {"top_p": 0.9, "repeat_penalty": 1.05, "seed": 0}


def server_binary(settings: Settings) -> Path | None:
    """``llm_server_bin``, else ``llama-server`` beside this Python, else on the PATH."""
    if settings.llm_server_bin is not None:
        return settings.llm_server_bin if settings.llm_server_bin.is_file() else None
    beside = Path(sys.executable).parent / "llama-server"
    if beside.is_file():
        return beside
    found = shutil.which("llama-server")
    return Path(found) if found else None


def _die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM when the thread that started it
    ends (``PR_SET_PDEATHSIG``), which for the spawner thread means when Passerelle ends."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


# Looked up in the parent: the child only calls it. None off Linux (no parent-death signal:
# the server is stopped at exit only).
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
# One thread that starts every server and then idles until the process ends. Written by
# hand around ``prctl``: subprocess has no parent-death option, and the signal follows the
# starting thread, which must therefore outlive the server (a loader or request thread
# does not).
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama-server-spawner")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ManagedServer:
    """One ``llama-server`` child process, started on demand and restarted if it dies."""

    def __init__(self, settings: Settings) -> None:
        binary = server_binary(settings)
        if binary is None:
            raise GeneratorUnavailable(
                "llama-server not found (scripts/setup.sh builds it; or set "
                "PASSERELLE_LLM_SERVER_BIN)"
            )
        if not settings.llm_path.is_file():
            raise GeneratorUnavailable(f"model file {settings.llm_path} not found")
        self.binary = binary
        self.settings = settings
        self.slots = max(1, settings.llm_parallel)
        self._proc: subprocess.Popen | None = None
        self._url = ""
        self._lock = threading.Lock()

    def command(self, port: int) -> list[str]:
        s = self.settings
        return [
            str(self.binary), "-m", str(s.llm_path), "--host", "127.0.0.1", "--port", str(port),
            "-t", str(s.llm_threads), "-tb", str(s.llm_threads),
            # every slot gets the in-process context size, in one shared KV buffer
            "-c", str(s.llm_context * self.slots), "--parallel", str(self.slots),
            "-b", str(s.llm_batch), "-ub", str(s.llm_batch),
            "--no-webui", "--log-disable",
        ]  # fmt: skip

    def url(self) -> str:
        """The server's OpenAI-compatible base URL, starting it if it is not running."""
        with self._lock:
            if self.running():
                return self._url
            if self._proc is not None:
                log.warning("llama-server exited with %s; restarting", self._proc.returncode)
            self._start()
            return self._url

    def _start(self) -> None:
        port = _free_port()
        env = dict(os.environ)
        env.setdefault("GOMP_SPINCOUNT", str(max(self.settings.llm_omp_spin, 0)))
        # started from the spawner thread, which lives as long as this process: the child
        # then gets SIGTERM when the process dies, even killed (-9) mid-answer, instead of
        # keeping the model's gigabyte and both cores as an orphan
        self._proc = _SPAWNER.submit(
            subprocess.Popen,
            self.command(port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 (one async-signal-safe call)
        ).result()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise GeneratorUnavailable(
                    f"llama-server exited with {self._proc.returncode} while starting"
                )
            try:  # /health is 503 while the model loads, 200 once it is ready
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    self._url = f"{base}/v1"
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise GeneratorUnavailable(f"llama-server not ready after {READY_TIMEOUT_S:.0f} s")

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class LlamaServerGenerator:
    """The ``local`` generator's model behind a managed ``llama-server``."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.server = ManagedServer(settings)
        self.settings = settings
        self._client: OpenAIGenerator | None = None
        atexit.register(self.server.stop)

    def load(self) -> None:
        """Start the server now (the app does it at start-up, not at the first question)."""
        self._openai()

    def _openai(self) -> OpenAIGenerator:
        url = self.server.url()
        if self._client is None or not self._client.url.startswith(url):
            update = {"openai_url": url, "openai_key": None}
            self._client = OpenAIGenerator(
                self.settings.model_copy(update=update), prefill=True, extra=SAMPLING
            )
        return self._client

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int | None = None
    ) -> Iterator[str]:
        """Answer pieces from the server. A server found dead before the answer's first
        piece is restarted and asked again; one that dies later fails the answer."""
        started = False
        try:
            for piece in self._openai().stream(messages, max_tokens=max_tokens):
                started = True
                yield piece
        except GeneratorUnavailable:
            if started or self.server.running():
                raise
            yield from self._openai().stream(messages, max_tokens=max_tokens)

    def close(self) -> None:
        self.server.stop()
