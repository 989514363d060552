"""HTML rendering of answers, sources and documents for the chat UI.

Every piece of document or answer text is passed through ``html.escape`` before it is
wrapped in our own markup: documents are untrusted, and a ``<script>`` or
``<img onerror>`` inside one must show as text, never run. Gradio's ``gr.HTML`` inserts
its value as raw HTML, so escaping here is the one line of defence that matters. Nothing
here is ever read as Markdown (the chatbot runs with ``render_markdown=False``): a
document's ``[www.site-officiel.fr](http://ailleurs)`` or ``![](http://ailleurs/x.png)``
stays visible text, its real target in plain sight.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from typing import Any

from ui.texts import t

CONTEXT_CHARS = 300
CITATION_RE = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")

# ``dataclasses.asdict(answer.types.Citation)``, plus ``evidence``: [start, end] of the
# sentence that supports the answer (document offsets), when one does
Citation = dict[str, Any]


def esc(text: str) -> str:
    """HTML-escaped text (quotes included, so it is safe inside attributes too)."""
    return html.escape(text, quote=True)


def text_html(text: str) -> str:
    """Escaped text for a chat message: line breaks kept as ``<br>``, nothing else markup."""
    return esc(text).replace("\r\n", "\n").replace("\n", "<br>")


def cited_numbers(answer: str) -> list[int]:
    """Citation numbers in the order they first appear in ``answer`` (``[1]``, ``[2, 3]``)."""
    seen: list[int] = []
    for match in CITATION_RE.finditer(answer):
        for part in re.split(r"[,;]", match.group(1)):
            n = int(part)
            if n not in seen:
                seen.append(n)
    return seen


def cite_anchor(turn: int, n: int) -> str:
    """The fragment that selects source ``n`` of answer ``turn`` in the sources panel."""
    return f"#src-{turn}-{n}"


def format_answer(answer: str, turn: int, valid: Iterable[int] | None = None) -> str:
    """Escaped answer text whose ``[n]`` markers are links to the sources panel.

    The links are plain anchors; a click handler installed by the sources panel
    (see ``ui/static.py``) turns them into "select source n" instead of navigation.
    """
    allowed = set(valid) if valid is not None else None
    text = text_html(answer)

    def link(match: re.Match[str]) -> str:
        numbers = [int(p) for p in re.split(r"[,;]", match.group(1))]
        if allowed is not None and not all(n in allowed for n in numbers):
            return match.group(0)
        return "".join(
            f'<a class="psl-cite" href="{cite_anchor(turn, n)}" title="Source {n}">[{n}]</a>'
            for n in numbers
        )

    return CITATION_RE.sub(link, text)


def format_streaming(partial: str) -> str:
    """The not yet checked answer while tokens arrive, with a typing cursor."""
    return text_html(partial) + ' <span class="psl-cursor">▍</span>'


def format_refusal(answer: str, titles: list[str], lang: str) -> str:
    """A refusal, styled as a notice, followed by what the corpus does cover."""
    missing = [title for title in titles if title not in answer]  # the engine may list them
    items = "".join(f"<li>{esc(title)}</li>" for title in missing)
    covers = f"<p>{esc(t(lang, 'refusal_covers'))}</p><ul>{items}</ul>" if missing else ""
    return (
        '<div class="psl-refusal" role="note"><span class="psl-refusal-icon" aria-hidden="true">'
        f"i</span><div><p>{text_html(answer)}</p>{covers}</div></div>"
    )


def format_notice(message: str) -> str:
    """An error or validation notice shown in place of an answer."""
    return f'<div class="psl-error">⚠ {text_html(message)}</div>'


def _display(text: str) -> str:
    """Tabs shown as spaces; one character for one, so offsets keep pointing right."""
    return text.replace("\t", " ")


def context_window(
    doc: str, start: int, end: int, radius: int = CONTEXT_CHARS
) -> tuple[str, str, str, bool, bool]:
    """``(before, span, after, cut_before, cut_after)`` around ``doc[start:end]``.

    The cut points move to the nearest whitespace so words are not split.
    """
    start = max(0, min(start, len(doc)))
    end = max(start, min(end, len(doc)))
    lo = max(0, start - radius)
    hi = min(len(doc), end + radius)
    if lo > 0:
        space = doc.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(doc):
        space = doc.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    return doc[lo:start], doc[start:end], doc[end:hi], lo > 0, hi < len(doc)


def highlighted(
    doc: str,
    start: int,
    end: int,
    radius: int | None = CONTEXT_CHARS,
    evidence: tuple[int, int] | None = None,
) -> str:
    """Escaped ``doc`` (or the window around the span) with the span inside ``<mark>``,
    and inside it the ``evidence`` sentence (document offsets) in ``<strong>``."""
    if radius is None:
        start = max(0, min(start, len(doc)))
        end = max(start, min(end, len(doc)))
        before, span, after, cut_b, cut_a = doc[:start], doc[start:end], doc[end:], False, False
    else:
        before, span, after, cut_b, cut_a = context_window(doc, start, end, radius)
    inner = esc(_display(span))
    if evidence and start <= evidence[0] < evidence[1] <= start + len(span):
        a, b = evidence[0] - start, evidence[1] - start
        inner = (
            esc(_display(span[:a]))
            + f'<strong class="psl-evidence">{esc(_display(span[a:b]))}</strong>'
            + esc(_display(span[b:]))
        )
    return (
        ("… " if cut_b else "")
        + esc(_display(before))
        + f'<mark class="psl-span">{inner}</mark>'
        + esc(_display(after))
        + (" …" if cut_a else "")
    )


def _score(value: Any, lang: str) -> str:
    """A retrieval score with 3 significant digits (French decimal comma in French)."""
    try:
        text = f"{float(value):.3g}"
    except (TypeError, ValueError):
        return "–"
    return text.replace(".", ",") if lang == "fr" else text


def render_source_card(
    c: Citation, turn: int, lang: str, doc_text: Callable[[str], str | None]
) -> str:
    """One source: number, title, page, score and the passage inside its context."""
    n = int(c["n"])
    doc = doc_text(c["source"])
    start, end = int(c.get("start", 0)), int(c.get("end", 0))
    if doc is not None and 0 <= start < end <= len(doc):
        evidence = c.get("evidence")
        body = highlighted(doc, start, end, evidence=tuple(evidence) if evidence else None)
    else:  # document gone from the index: show the passage as it was cited
        body = f'<mark class="psl-span">{esc(_display(c.get("text", "")))}</mark>'
    page = c.get("page")
    meta = [f"{esc(t(lang, 'page'))} {int(page)}"] if page is not None else []
    meta.append(f"{esc(t(lang, 'score'))} {_score(c.get('score'), lang)}")
    return (
        f'<article class="psl-card" id="src-{turn}-{n}" data-turn="{turn}" data-n="{n}">'
        f'<header><span class="psl-num">[{n}]</span> '
        f'<span class="psl-title">{esc(str(c.get("title") or c["source"]))}</span>'
        f'<span class="psl-meta">{" · ".join(meta)}</span></header>'
        f'<blockquote class="psl-context">{body}</blockquote>'
        f'<button type="button" class="psl-open" data-turn="{turn}" data-n="{n}">'
        f"{esc(t(lang, 'open_in_document'))}</button>{source_link(c, lang)}</article>"
    )


def source_link(c: Citation, lang: str) -> str:
    """A link to where the passage comes from (``url``: the web page, or the document file
    served by the app); nothing for any other scheme."""
    url = str(c.get("url") or "")
    if not url.startswith(("https://", "http://", "/documents/")):
        return ""
    return (
        f'<a class="psl-link" href="{esc(url)}" target="_blank" rel="noopener noreferrer">'
        f"{esc(t(lang, 'open_source'))}</a>"
    )


def render_sources(
    citations: list[Citation],
    turn: int,
    lang: str,
    doc_text: Callable[[str], str | None],
    *,
    pending: bool = False,
) -> str:
    """The sources panel for answer ``turn`` (empty-state text when there is none)."""
    if turn < 0:
        return f'<div class="psl-sources-empty">{esc(t(lang, "sources_empty"))}</div>'
    heading = t(lang, "sources_pending" if pending else "sources_title")
    if not citations:
        return (
            f'<h3 class="psl-sources-title">{esc(heading)}</h3>'
            f'<div class="psl-sources-empty">{esc(t(lang, "sources_none"))}</div>'
        )
    cards = "".join(render_source_card(c, turn, lang, doc_text) for c in citations)
    return f'<h3 class="psl-sources-title">{esc(heading)}</h3>{cards}'


def render_document(
    title: str, doc: str | None, lang: str, span: tuple[int, int] | None = None
) -> str:
    """The whole cleaned document, escaped, with the cited span (if any) highlighted."""
    if doc is None:
        return f'<div class="psl-sources-empty">{esc(t(lang, "viewer_missing"))}</div>'
    if span is not None and 0 <= span[0] < span[1] <= len(doc):
        body = highlighted(doc, span[0], span[1], radius=None)
    else:
        body = esc(_display(doc))
    return f'<h3 class="psl-doc-title">{esc(title)}</h3><div class="psl-doc">{body}</div>'
