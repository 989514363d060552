"""Any OpenAI-compatible chat server (llama.cpp server, vLLM, Ollama, a hosted API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from answer.errors import GeneratorUnavailable
from answer.generators.base import ChatMessage, split_prefill
from settings import Settings


class OpenAIGenerator:
    """Streams ``POST {openai_url}/chat/completions`` with server-sent events.

    Plain httpx rather than the ``openai`` package: one request shape is all we need,
    and httpx is already a dependency.
    """

    name = "openai"

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = 120.0,
        prefill: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """``prefill``: the server continues a final assistant message (llama-server
        does); ``extra``: more request fields (sampling options a given server knows)."""
        self.prefill = prefill
        self.extra = dict(extra or {})
        self.url = settings.openai_url.rstrip("/") + "/chat/completions"
        self.model = settings.openai_model
        self.max_tokens = settings.max_answer_tokens
        headers = {"Accept": "text/event-stream"}
        if settings.openai_key:
            headers["Authorization"] = f"Bearer {settings.openai_key}"
        self.client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=5.0))

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int | None = None,
    ) -> Iterator[str]:
        """Answer pieces as the server sends them."""
        # OpenAI-compatible servers differ on continuing an assistant message: unless this
        # one is known to (``prefill``), the prefill is left out and the model writes its
        # answer from the start.
        prefill = ""
        if not self.prefill:
            messages, _ = split_prefill(messages)
        else:
            prefill = split_prefill(messages)[1] or ""
        body: dict[str, Any] = {
            **self.extra,
            "model": self.model,
            "messages": messages,
            "stream": True,
            "temperature": 0.1,
            "max_tokens": max_tokens or self.max_tokens,
        }
        try:
            with self.client.stream("POST", self.url, json=body) as response:
                if response.status_code != 200:
                    detail = response.read().decode("utf-8", "replace")[:300]
                    raise GeneratorUnavailable(
                        f"{self.url} answered HTTP {response.status_code}: {detail}"
                    )
                yield from _with_prefill(_deltas(response), prefill)
        except httpx.HTTPError as err:
            raise GeneratorUnavailable(f"cannot reach {self.url}: {err}") from err


def _deltas(response: httpx.Response) -> Iterator[str]:
    """The text pieces of a streamed chat completion, up to its end."""
    for line in response.iter_lines():
        text = _delta_text(line)
        if text is None:
            return
        if text:
            yield text


def _with_prefill(pieces: Iterator[str], prefill: str) -> Iterator[str]:
    """The answer starting with ``prefill`` exactly once: llama-server sends the prefill
    back before its continuation, another server may send the continuation only. The
    first pieces are held until they can tell."""
    if not prefill:
        yield from pieces
        return
    held = ""
    for piece in pieces:
        held += piece
        if len(held) >= len(prefill):
            break
    yield held if held.startswith(prefill) else prefill + held
    yield from pieces


def _delta_text(line: str) -> str | None:
    """Text of one SSE line ("" if none); None at the end of the stream."""
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        choices = json.loads(data).get("choices") or [{}]
    except json.JSONDecodeError:
        return ""
    return (choices[0].get("delta") or {}).get("content") or ""
