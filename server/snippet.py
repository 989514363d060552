"""Copy-paste snippets that put the chat on a partner's web site."""

from __future__ import annotations

from html import escape


def widget_snippet(base_url: str, *, title: str | None = None, lang: str = "fr") -> str:
    """The ``<script>`` tag that adds the chat bubble to any page (shown in the admin tab)."""
    base = base_url.rstrip("/")
    attrs = f' data-lang="{escape(lang)}"'
    if title:
        attrs += f' data-title="{escape(title)}"'
    return f'<script src="{escape(base)}/widget.js"{attrs} defer></script>'


def embed_snippet(base_url: str, *, height: int = 600) -> str:
    """The ``<iframe>`` alternative: the same chat as a full panel inside the page."""
    base = base_url.rstrip("/")
    return (
        f'<iframe src="{escape(base)}/embed" title="Assistant Passerelle" '
        f'style="width:100%;max-width:480px;height:{int(height)}px;border:0" '
        'loading="lazy"></iframe>'
    )
