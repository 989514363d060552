"""The Gradio chat UI: ask, read the streamed answer, check every cited source.

``build_ui(services)`` returns the ``gr.Blocks`` that ``app.py`` mounts at ``/``.
Stable API names (for ``gradio_client``): ``/ask``, ``/new_conversation``,
``/set_language``; the admin tab adds its own (see ``ui/admin.py``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from typing import Any

import gradio as gr

from answer.engine import AnswerEngine
from answer.types import AnswerEvent, AnswerResult, Message, SourcesEvent, TokenEvent
from index.collections import CollectionConfig, Scope, ScopedIndex, parse_scope
from index.links import with_links
from server.adminauth import AdminAuth
from server.admission import Refused, admit_question
from server.clients import request_address
from server.ratelimit import RateLimiter
from server.scheduler import QueuedEvent
from server.services import Services
from ui import render
from ui.examples import example_questions
from ui.feedback import FeedbackStore
from ui.static import CSS, SOURCES_JS, VIEWER_JS
from ui.texts import DEFAULT_LANG, t

log = logging.getLogger(__name__)

STREAM_INTERVAL_S = 0.05  # at most ~20 screen updates per second while tokens arrive
Turn = dict[str, Any]


def header_html(lang: str) -> str:
    return (
        f'<div id="psl-header"><div><h1>{render.esc(t(lang, "title"))}</h1>'
        f"<p>{render.esc(t(lang, 'subtitle'))}</p></div></div>"
    )


class ChatHandlers:
    """The Python side of every chat event (kept apart from the layout to be testable)."""

    def __init__(
        self, services: Services, feedback: FeedbackStore, limiter: RateLimiter | None = None
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.collections = CollectionConfig(services.settings.corpus_dir)
        self.scheduler = services.scheduler  # the API's: one queue for the model
        self.feedback = feedback
        self.limiter = limiter or RateLimiter()  # app.py passes the API's: one set of limits

    # -- helpers -----------------------------------------------------------------------
    @property
    def scope(self) -> Scope:
        """Collections this chat may search and show (``PASSERELLE_CHAT_COLLECTIONS``)."""
        return parse_scope(self.settings.chat_collections, self.collections)

    @property
    def index(self) -> ScopedIndex:
        """The index as this chat may see it: answers, sources, viewer, examples."""
        return self.services.index.scoped(self.scope)

    @property
    def engine(self) -> AnswerEngine:
        return self.services.engine_for(self.scope)

    def document_text(self, source: str) -> str | None:
        try:
            return self.index.document_text(source)
        except Exception:  # a missing or unreadable document shows as "not in the index"
            log.exception("document_text(%s) failed", source)
            return None

    def documents(self) -> list[dict]:
        try:
            return list(self.index.documents())
        except Exception:
            log.exception("documents() failed")
            return []

    def titles(self) -> list[str]:
        return [d.get("title") or d["source"] for d in self.documents()]

    def doc_choices(self) -> list[tuple[str, str]]:
        return [(d.get("title") or d["source"], d["source"]) for d in self.documents()]

    def examples(self, lang: str) -> list[dict[str, str]]:
        """Chatbot example messages for this corpus."""
        return [{"text": q} for q in example_questions(self.documents(), self.document_text, lang)]

    def history(self, turns: list[Turn]) -> list[Message]:
        """Previous questions and checked answers, newest last, within the history limit."""
        messages: list[Message] = []
        for turn in turns:
            if turn.get("answer"):
                messages.append(Message("user", turn["question"]))
                messages.append(Message("assistant", turn["answer"]))
        limit = self.settings.max_history_messages
        return messages[-limit:] if limit > 0 else []

    @staticmethod
    def messages(turns: list[Turn]) -> list[dict[str, str]]:
        """Chatbot messages: for turn ``i``, user at ``2i`` and assistant at ``2i + 1``."""
        out: list[dict[str, str]] = []
        for turn in turns:
            out.append({"role": "user", "content": render.text_html(turn["question"])})
            out.append({"role": "assistant", "content": turn["html"]})
        return out

    def sources_for(self, turns: list[Turn], turn_index: int, lang: str) -> str:
        if not 0 <= turn_index < len(turns):
            return render.render_sources([], -1, lang, self.document_text)
        turn = turns[turn_index]
        return render.render_sources(
            turn["citations"], turn_index, lang, self.document_text, pending=turn.get("pending")
        )

    def _finish(self, result: AnswerResult, turn: Turn, turn_index: int) -> None:
        """Fill ``turn`` from the checked answer."""
        turn["pending"] = False
        turn["answer"] = result.answer
        turn["answerable"] = result.answerable
        turn["language"] = result.language
        all_cites = with_links([asdict(c) for c in result.citations])
        if result.answerable:
            numbers = render.cited_numbers(result.answer)
            cited = [c for c in all_cites if c["n"] in numbers] or all_cites
            cited.sort(key=lambda c: numbers.index(c["n"]) if c["n"] in numbers else 999)
            for c in cited:  # the supporting sentence, in document offsets for the card
                if c.get("evidence"):
                    c["evidence"] = [c["start"] + c["evidence"][0], c["start"] + c["evidence"][1]]
            turn["citations"] = cited
            turn["html"] = render.format_answer(
                result.answer, turn_index, valid=[c["n"] for c in all_cites]
            )
        else:
            turn["citations"] = []
            turn["html"] = render.format_refusal(result.answer, self.titles(), result.language)

    # -- events ------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        turns: list[Turn] | None,
        lang: str,
        request: gr.Request | None = None,
    ):
        """Stream the answer: (chat messages, sources panel, cleared question, turns).

        The question first passes ``server.admission`` (the API's rate limits, per client
        address and per Gradio session, and its size and text checks)."""
        turns = list(turns or [])
        question = (question or "").strip()
        if not question:
            yield self.messages(turns), gr.skip(), "", turns
            return
        turn_index = len(turns)
        turn: Turn = {
            "question": question,
            "answer": "",
            "answerable": False,
            "language": lang,
            "citations": [],
            "pending": True,
            "html": f'<span class="psl-cursor">{render.esc(t(lang, "thinking"))}</span>',
        }
        turns.append(turn)
        try:
            admit_question(
                self.settings,
                self.limiter,
                question,
                [m.content for m in self.history(turns[:-1])],
                client=request_address(request),
                session=getattr(request, "session_hash", None),
            )
        except Refused as refused:
            limit = self.settings.max_question_chars
            turn["pending"] = False
            turn["html"] = render.format_notice(
                t(lang, "too_long").format(n=limit)
                if refused.code == "question_too_long"
                else refused.detail
            )
            yield self.messages(turns), self.sources_for(turns, turn_index, lang), "", turns
            return
        yield self.messages(turns), gr.skip(), "", turns

        partial = ""
        last = 0.0
        try:
            client = getattr(request, "session_hash", None) or request_address(request)
            for event in self.scheduler.stream(
                self.engine, question, self.history(turns[:-1]), client=f"gradio:{client}"
            ):
                if isinstance(event, QueuedEvent):
                    waiting = t(lang, "queued").format(
                        position=event.position, seconds=round(event.expected_s)
                    )
                    turn["html"] = f'<span class="psl-cursor">{render.esc(waiting)}</span>'
                    yield self.messages(turns), gr.skip(), gr.skip(), turns
                elif isinstance(event, SourcesEvent):
                    turn["citations"] = with_links([asdict(c) for c in event.citations])
                    yield (
                        self.messages(turns),
                        self.sources_for(turns, turn_index, lang),
                        gr.skip(),
                        turns,
                    )
                elif isinstance(event, TokenEvent):
                    partial += event.text
                    turn["html"] = render.format_streaming(partial)
                    if time.monotonic() - last >= STREAM_INTERVAL_S:
                        last = time.monotonic()
                        yield self.messages(turns), gr.skip(), gr.skip(), turns
                elif isinstance(event, AnswerEvent):
                    self._finish(event.result, turn, turn_index)
        except Exception:
            log.exception("answering %r failed", question)
            turn.update(pending=False, answer="", citations=[])
            turn["html"] = render.format_notice(t(lang, "error"))
        if turn["pending"]:  # stream ended without a checked answer
            turn.update(pending=False, answer="", citations=[])
            turn["html"] = render.format_notice(t(lang, "error"))
        yield self.messages(turns), self.sources_for(turns, turn_index, lang), gr.skip(), turns

    def new_conversation(self, lang: str):
        """Empty chat, sources and viewer."""
        return [], render.render_sources([], -1, lang, self.document_text), [], ""

    def like(self, data: gr.LikeData, turns: list[Turn] | None, request: gr.Request) -> None:
        """Store a thumbs up/down on an answer."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        turns = turns or []
        if index % 2 != 1 or not 0 <= index // 2 < len(turns):
            return
        turn = turns[index // 2]
        if not turn.get("answer") or data.liked not in (True, False):
            return
        session = getattr(request, "session_hash", None) or "anonymous"
        self.feedback.add(
            turn["question"],
            turn["answer"],
            turn["citations"],
            1 if data.liked else -1,
            key=f"{session}:{index}:{turn['question']}",
        )
        gr.Info("Merci pour votre avis !" if turn.get("language") != "en" else "Thank you!")

    def show_turn(self, evt: gr.EventData, turns: list[Turn] | None, lang: str) -> str:
        """Sources of an earlier answer (its citation link was clicked)."""
        data = getattr(evt, "_data", None) or {}
        return self.sources_for(turns or [], int(data.get("turn", -1)), lang)

    def open_source(self, evt: gr.EventData, turns: list[Turn] | None, lang: str):
        """Open the viewer on the document of a source, its span highlighted."""
        data = getattr(evt, "_data", None) or {}
        turns = turns or []
        turn_i, n = int(data.get("turn", -1)), int(data.get("n", -1))
        if not 0 <= turn_i < len(turns):
            return gr.skip(), gr.skip(), gr.skip()
        cite = next((c for c in turns[turn_i]["citations"] if int(c["n"]) == n), None)
        if cite is None:
            return gr.skip(), gr.skip(), gr.skip()
        return self.view(cite["source"], lang, (int(cite["start"]), int(cite["end"])))

    def view(self, source: str | None, lang: str, span: tuple[int, int] | None = None):
        """(viewer accordion, document picker, viewer) showing ``source``."""
        choices = self.doc_choices()
        if not source:
            return (
                gr.update(),
                gr.update(choices=choices),
                f'<div class="psl-sources-empty">{render.esc(t(lang, "viewer_empty"))}</div>',
            )
        title = dict((s, ti) for ti, s in choices).get(source, source)
        body = render.render_document(title, self.document_text(source), lang, span)
        picked = source if any(s == source for _, s in choices) else None
        return gr.update(open=True), gr.update(choices=choices, value=picked), body

    def pick_document(self, source: str | None, lang: str):
        return self.view(source, lang)

    def on_load(self, lang: str, request: gr.Request):
        """Examples for this corpus; ``?source=<path>[&start=&end=]`` opens that document."""
        examples = self.examples(lang)
        params = dict(request.query_params) if request is not None else {}
        source = params.get("source")
        span = None
        try:
            if "start" in params and "end" in params:
                span = (int(params["start"]), int(params["end"]))
        except ValueError:
            span = None
        acc, pick, body = self.view(source, lang, span)
        return gr.update(examples=examples), acc, pick, body

    def set_language(self, lang: str, turns: list[Turn] | None):
        """Relabel the interface (answers keep the language of their question)."""
        turns = turns or []
        examples = self.examples(lang)
        return (
            header_html(lang),
            gr.update(label=t(lang, "tab_chat")),
            gr.update(
                label=t(lang, "chat_label"),
                placeholder=t(lang, "chat_placeholder"),
                examples=examples if not turns else None,
            ),
            gr.update(label=t(lang, "question_label"), placeholder=t(lang, "question_placeholder")),
            gr.update(value=t(lang, "send")),
            gr.update(value=t(lang, "new_conversation")),
            self.sources_for(turns, len(turns) - 1, lang),
            gr.update(label=t(lang, "viewer_label")),
            gr.update(label=t(lang, "viewer_pick")),
        )


def example_text(evt: gr.SelectData) -> str:
    """The question of a clicked example."""
    value = evt.value
    return str(value.get("text", "")) if isinstance(value, dict) else str(value)


def build_ui(
    services: Services, limiter: RateLimiter | None = None, admin_auth: AdminAuth | None = None
) -> gr.Blocks:
    """The whole interface: chat, sources, document viewer and (with a token) admin.

    ``limiter`` and ``admin_auth`` are the app's (``app.py``), so the chat shares the API's
    rate limits and the admin tab the upload gate's token throttle.
    """
    lang0 = DEFAULT_LANG
    feedback = FeedbackStore.for_data_dir(services.settings.data_dir)
    h = ChatHandlers(services, feedback, limiter)

    with gr.Blocks(
        title="Passerelle — Mission Bassin Minier",
        analytics_enabled=False,
        # uploads nobody used (an admin who picked a file and left): gone within the hour
        delete_cache=(600, 3600),
    ) as demo:
        turns = gr.State([])
        with gr.Row(equal_height=True):
            with gr.Column(scale=5):
                header = gr.HTML(header_html(lang0), head=CSS, js_on_load=None)
            lang = gr.Radio(
                [("Français", "fr"), ("English", "en")],
                value=lang0,
                label="Langue / Language",
                scale=1,
                min_width=180,
                elem_id="psl-lang",
            )
        with gr.Tabs():
            with gr.Tab(t(lang0, "tab_chat"), id="chat") as chat_tab, gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label=t(lang0, "chat_label"),
                        elem_id="psl-chat",
                        height=520,
                        placeholder=t(lang0, "chat_placeholder"),
                        latex_delimiters=[],  # "$" in amounts is not LaTeX
                        # Messages are our escaped HTML (ui/render.py); as Markdown, a
                        # document's "[texte](http://ailleurs)" would become a disguised link
                        render_markdown=False,
                        buttons=["copy"],
                        feedback_options=("Like", "Dislike"),
                        layout="bubble",
                    )
                    with gr.Row(equal_height=True):
                        question = gr.Textbox(
                            label=t(lang0, "question_label"),
                            placeholder=t(lang0, "question_placeholder"),
                            scale=6,
                            lines=1,
                            max_lines=6,
                            autofocus=True,
                            elem_id="psl-question",
                        )
                        send = gr.Button(
                            t(lang0, "send"), variant="primary", scale=1, elem_id="psl-send"
                        )
                    new_conv = gr.Button(
                        t(lang0, "new_conversation"),
                        variant="secondary",
                        size="sm",
                        elem_id="psl-new",
                    )
                with gr.Column(scale=2):
                    sources = gr.HTML(
                        render.render_sources([], -1, lang0, h.document_text),
                        js_on_load=SOURCES_JS,
                        elem_id="psl-sources",
                    )
                    with gr.Accordion(
                        t(lang0, "viewer_label"), open=False, elem_id="psl-viewer"
                    ) as viewer_acc:
                        doc_pick = gr.Dropdown(
                            choices=[],
                            label=t(lang0, "viewer_pick"),
                            interactive=True,
                            elem_id="psl-doc-pick",
                        )
                        viewer = gr.HTML(
                            f'<div class="psl-sources-empty">'
                            f"{render.esc(t(lang0, 'viewer_empty'))}</div>",
                            js_on_load=VIEWER_JS,
                            elem_id="psl-doc",
                        )
            if services.settings.admin_token:
                from ui.admin import build_admin_tab

                build_admin_tab(services, feedback, admin_auth)

        ask_io: dict[str, Any] = dict(
            fn=h.ask,
            inputs=[question, turns, lang],
            outputs=[chatbot, sources, question, turns],
            # waiting is cheap: server/scheduler.py gives the model's turns and answers
            # quickly past the queue budget, so Gradio's own queue need not hold people back
            concurrency_limit=32,
            concurrency_id="ask",
        )
        question.submit(**ask_io, api_name="ask")
        send.click(**ask_io, api_visibility="private")
        picked = chatbot.example_select(example_text, None, question, api_visibility="private")
        picked.then(**ask_io, api_visibility="private")
        new_conv.click(
            h.new_conversation,
            [lang],
            [chatbot, sources, turns, question],
            api_name="new_conversation",
        )
        chatbot.like(h.like, [turns], None, api_visibility="private")
        sources.show_turn(h.show_turn, [turns, lang], [sources], api_visibility="private")
        sources.open_source(
            h.open_source, [turns, lang], [viewer_acc, doc_pick, viewer], api_visibility="private"
        )
        doc_pick.input(
            h.pick_document,
            [doc_pick, lang],
            [viewer_acc, doc_pick, viewer],
            api_visibility="private",
        )
        doc_pick.focus(
            lambda: gr.update(choices=h.doc_choices()), None, doc_pick, api_visibility="private"
        )
        lang.change(
            h.set_language,
            [lang, turns],
            [header, chat_tab, chatbot, question, send, new_conv, sources, viewer_acc, doc_pick],
            api_name="set_language",
        )
        demo.load(
            h.on_load, [lang], [chatbot, viewer_acc, doc_pick, viewer], api_visibility="private"
        )
    return demo
