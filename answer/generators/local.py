"""The bundled Qwen2.5 GGUF model, run in-process by llama.cpp."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from answer.errors import GeneratorUnavailable
from answer.generators.base import ChatMessage, split_prefill
from settings import Settings, apply_openmp_spin

if TYPE_CHECKING:
    from llama_cpp import Llama

# One model per process: loading takes seconds and 1+ GB of RAM, and a llama.cpp
# context is not thread-safe, so every call holds ``_LOCK`` while it generates.
_LOCK = threading.Lock()
_MODELS: dict[tuple, Llama] = {}
_STOPS = ["<|im_end|>", "<|endoftext|>"]


def _turns(messages: list[ChatMessage]) -> str:
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def chatml(messages: list[ChatMessage]) -> str:
    """The messages in Qwen2.5's ChatML template, up to the assistant's turn."""
    return _turns(messages) + "<|im_start|>assistant\n"


def _marks(llm: Llama, messages: list[ChatMessage], prompt: list[int]) -> list[int]:
    """Where every reading of this prompt ends a batch: after the system turn (shared by
    every prompt of the engine) and after the user turn's first paragraph (a rewrite's or a
    translation's fixed instructions). Both are positions of the prompt itself; one that
    does not tokenize as a start of ``prompt`` is left out."""
    if not messages or messages[0]["role"] != "system":
        return []
    heads = [_turns(messages[:1])]
    if len(messages) > 1 and "\n\n" in messages[1]["content"]:
        paragraph = messages[1]["content"].split("\n\n", 1)[0] + "\n\n"
        heads.append(heads[0] + f"<|im_start|>{messages[1]['role']}\n{paragraph}")
    marks = []
    for head in heads:
        tokens = llm.tokenize(head.encode("utf-8"), special=True)
        if 0 < len(tokens) < len(prompt) and prompt[: len(tokens)] == tokens:
            marks.append(len(tokens))
    return sorted(set(marks))


def _settle_cache(llm: Llama, prompt: list[int], marks: list[int]) -> None:
    """Leave the context holding ``prompt`` up to its last mark, each part between two
    marks read as a batch of its own, the parts the cache already holds kept.

    Why by hand: llama-cpp-python reuses the longest prefix a prompt shares with the one
    before it, so the rest of a prompt was read from a point that depended on the previous
    question, in differently split batches; the floating-point sums differed and, now and
    then, so did the text (6 of 67 English questions got another French rewrite when asked
    in another order). Reused or read afresh, every part between two marks is now read
    from the same point in the same batch, so the text is a function of the prompt, as the
    memo and the replays assume, while the shared parts are still read once
    (``tests/test_generators.py``)."""
    kept = 0
    for mark in marks:
        if llm.n_tokens >= mark and list(llm.input_ids[:mark]) == prompt[:mark]:
            kept = mark
        else:
            break
    if kept:
        llm.n_tokens = kept  # eval() and generate() drop the cache after it
    else:
        llm.reset()
    for begin, end in zip([0, *marks], marks, strict=False):
        if end > kept:
            llm.eval(prompt[max(begin, kept) : end])


@atexit.register
def _close_models() -> None:
    """Free the model before the interpreter tears down the modules llama.cpp needs."""
    for llm in _MODELS.values():
        llm.close()
    _MODELS.clear()


def _load(
    path: Path, threads: int, context: int, lookup: int, batch: int = 1024, flash: bool = False
) -> Llama:
    """The process's model; ``lookup`` > 0 adds prompt-lookup decoding with that many
    draft tokens. llama.cpp keeps the longest common prefix of consecutive prompts in its
    KV cache, so the shared system prompt is read once, not at every question."""
    key = (str(path), threads, context, lookup, batch, flash)
    if key not in _MODELS:
        from llama_cpp import Llama
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

        _close_models()  # never two models in memory
        draft = LlamaPromptLookupDecoding(num_pred_tokens=lookup) if lookup > 0 else None
        _MODELS[key] = Llama(
            model_path=str(path),
            draft_model=draft,
            # llama-cpp-python 0.3.36 sizes its logits array by this flag, not by the draft
            # model (which needs every token's logits): without it, prompt lookup fails on
            # any prompt and answer longer than n_batch ("could not broadcast input array")
            logits_all=draft is not None,
            n_ctx=context,
            n_threads=threads,
            n_threads_batch=threads,
            # one batch holds every prompt the engine builds (system prefix + passages
            # ~ 1,000 tokens); bench/generation.py --kernel measures other sizes
            n_batch=batch,
            n_ubatch=batch,
            flash_attn=flash,
            verbose=False,
        )
    return _MODELS[key]


class LocalGenerator:
    """Streams chat completions from ``settings.llm_path`` (loaded on first use)."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        apply_openmp_spin(settings.llm_omp_spin, "llama_cpp")
        import llama_cpp  # noqa: F401  (fail now, not at the first question)

        if not settings.llm_path.is_file():
            raise GeneratorUnavailable(
                f"model file {settings.llm_path} not found (run scripts/assemble_model.py)"
            )
        self.path = settings.llm_path
        self.threads = settings.llm_threads
        self.context = settings.llm_context
        self.max_tokens = settings.max_answer_tokens
        self.lookup = settings.llm_prompt_lookup
        self.batch = settings.llm_batch
        self.flash = settings.llm_flash_attn

    def load(self) -> None:
        """Load the model now (the server does it at start-up, not at the first question)."""
        with _LOCK:
            self._model()

    def _model(self) -> Llama:
        return _load(self.path, self.threads, self.context, self.lookup, self.batch, self.flash)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` for this model (benchmarks: tokens per second)."""
        with _LOCK:
            return len(self._model().tokenize(text.encode("utf-8"), add_bos=False))

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int | None = None,
    ) -> Iterator[str]:
        """Answer pieces as llama.cpp produces them (greedy-ish: temperature 0.1)."""
        messages, prefill = split_prefill(messages)
        options = {
            "stream": True,
            "temperature": 0.1,
            "top_p": 0.9,
            "repeat_penalty": 1.05,
            "max_tokens": max_tokens or self.max_tokens,
            "seed": 0,
        }
        with _LOCK:
            try:
                llm = self._model()
                # The bundled Qwen model's ChatML template is written out and completed:
                # the context's cache is then set up from the same tokens (and llama-cpp's
                # chat API cannot continue an assistant message, a prefill).
                prompt = chatml(messages) + (prefill or "")
                tokens = llm.tokenize(prompt.encode("utf-8"), special=True)
                _settle_cache(llm, tokens, _marks(llm, messages, tokens))
                pending = prefill or ""  # sent with the first generated piece: honest timings
                for chunk in llm.create_completion(prompt=tokens, stop=_STOPS, **options):
                    text = chunk["choices"][0]["text"]
                    if text:
                        yield pending + text
                        pending = ""
            except (ValueError, RuntimeError) as err:  # e.g. prompt longer than the context
                raise GeneratorUnavailable(f"local model failed: {err}") from err
