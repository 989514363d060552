"""CSS and the few lines of JavaScript the chat UI needs.

The CSS is injected through ``gr.HTML(head=...)`` rather than ``Blocks(css=...)``:
``gr.mount_gradio_app`` (used by ``app.py``) overwrites the css/head of the Blocks it
mounts, while a component's ``head`` always reaches the page.
"""

from __future__ import annotations

CSS = """
<style>
:root, .gradio-container {
  --color-accent: #1f4e79 !important;
  --color-accent-soft: #e6eef7 !important;
  --border-color-accent: #1f4e79 !important;
  --border-color-accent-subdued: #9db7d3 !important;
  --button-primary-background-fill: #1f4e79 !important;
  --button-primary-background-fill-hover: #163a5c !important;
  --button-primary-border-color: #1f4e79 !important;
  --button-primary-border-color-hover: #163a5c !important;
  --button-primary-text-color: #ffffff !important;
  --checkbox-background-color-selected: #1f4e79 !important;
  --checkbox-border-color-selected: #1f4e79 !important;
  --checkbox-label-border-color-selected: #1f4e79 !important;
  --loader-color: #1f4e79 !important;
  --link-text-color: #1f4e79 !important;
}
#psl-header { display:flex; align-items:flex-end; justify-content:space-between; gap:1rem;
  border-bottom:3px solid #1f4e79; padding:0.4rem 0 0.6rem 0; }
#psl-header h1 { margin:0; font-size:1.6rem; color:#1f4e79; letter-spacing:0.01em; }
#psl-header p { margin:0.2rem 0 0 0; color:#4a5568; font-size:0.95rem; }
a.psl-cite { display:inline-block; padding:0 0.3em; margin:0 0.1em; border-radius:0.35em;
  background:#e6eef7; color:#1f4e79 !important; font-weight:600; font-size:0.85em;
  text-decoration:none !important; cursor:pointer; line-height:1.4; }
a.psl-cite:hover, a.psl-cite:focus { background:#1f4e79; color:#fff !important; }
.psl-refusal { display:flex; gap:0.6rem; padding:0.6rem 0.8rem; border-left:4px solid #b7791f;
  background:#fffaf0; border-radius:0.4rem; color:#5f370e; }
.psl-refusal p { margin:0 0 0.3rem 0; }
.psl-refusal ul { margin:0.2rem 0 0 1.1rem; }
.psl-refusal-icon { flex:none; width:1.5rem; height:1.5rem; border-radius:50%;
  background:#b7791f; color:#fff; font:700 1rem/1.5rem Georgia, serif; text-align:center; }
.psl-error { padding:0.6rem 0.8rem; border-left:4px solid #c53030; background:#fff5f5;
  border-radius:0.4rem; color:#742a2a; }
.psl-cursor { animation: psl-blink 1s steps(1) infinite; color:#1f4e79; }
@keyframes psl-blink { 50% { opacity:0; } }
.psl-sources-title { margin:0 0 0.5rem 0; font-size:1.05rem; color:#1f4e79; }
.psl-sources-empty { color:#718096; font-style:italic; padding:0.5rem 0; }
.psl-card { border:1px solid #d8dee9; border-radius:0.5rem; padding:0.6rem 0.75rem;
  margin-bottom:0.6rem; background:#fff; transition:box-shadow .2s, border-color .2s; }
.psl-card.selected { border-color:#1f4e79; box-shadow:0 0 0 3px rgba(31,78,121,.25); }
.psl-card header { display:flex; flex-wrap:wrap; gap:0.4rem; align-items:baseline; }
.psl-num { font-weight:700; color:#1f4e79; }
.psl-title { font-weight:600; color:#1a202c; }
.psl-meta { color:#718096; font-size:0.85rem; margin-left:auto; }
.psl-context, .psl-doc { white-space:pre-wrap; font-size:0.9rem; line-height:1.5; color:#2d3748;
  margin:0.5rem 0; padding:0.4rem 0.6rem; border-left:3px solid #cbd5e0; background:#f7fafc; }
.psl-doc { max-height:32rem; overflow-y:auto; border-left:none; }
.psl-doc-title { margin:0 0 0.4rem 0; font-size:1rem; color:#1a202c; }
mark.psl-span { background:#fde68a; color:#1a202c; padding:0.05em 0; border-radius:0.15em; }
mark.psl-span strong.psl-evidence { background:#fbbf24; font-weight:600; }
#psl-sources button.psl-open { font-size:0.85rem; color:#1f4e79; background:none;
  border:1px solid #1f4e79;
  border-radius:0.35rem; padding:0.15rem 0.6rem; cursor:pointer; }
#psl-sources button.psl-open:hover { background:#1f4e79; color:#fff; }
#psl-sources a.psl-link { font-size:0.85rem; color:#1f4e79; margin-left:0.6rem; }
#psl-sources { max-height:40rem; overflow-y:auto !important; }  /* Gradio sets visible */
</style>
"""

# Installed once by the sources panel. A click on a citation link ``#src-<turn>-<n>`` in
# the chat selects that card; if the panel shows another answer, it asks the server for
# that answer's sources ("show_turn") and selects the card once they are rendered.
# Clicks on "Voir dans le document" ask the server to open the viewer ("open_source").
SOURCES_JS = """
window.__pslTrigger = trigger;
window.__pslSelect = function (turn, n) {
  const root = document.getElementById('psl-sources');
  const card = root && root.querySelector('#src-' + turn + '-' + n);
  if (!card) return false;
  root.querySelectorAll('.psl-card.selected').forEach(c => c.classList.remove('selected'));
  card.classList.add('selected');
  card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  return true;
};
if (!window.__pslCiteHandler) {
  window.__pslCiteHandler = true;
  document.addEventListener('click', function (e) {
    const a = e.target.closest && e.target.closest('a[href^="#src-"]');
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    const m = a.getAttribute('href').match(/^#src-(\\d+)-(\\d+)$/);
    if (!m) return;
    if (!window.__pslSelect(m[1], m[2])) {
      window.__pslPending = [m[1], m[2]];
      window.__pslTrigger('show_turn', {turn: Number(m[1]), n: Number(m[2])});
    }
  }, true);
}
element.addEventListener('click', function (e) {
  const b = e.target.closest('button.psl-open');
  if (b) trigger('open_source', {turn: Number(b.dataset.turn), n: Number(b.dataset.n)});
});
watch('value', function () {
  const p = window.__pslPending;
  if (p && window.__pslSelect(p[0], p[1])) window.__pslPending = null;
});
"""

# Scrolls the document viewer to the highlighted span whenever a document is shown.
VIEWER_JS = """
watch('value', function () {
  const m = element.querySelector('mark.psl-span');
  if (m) setTimeout(function () { m.scrollIntoView({behavior: 'smooth', block: 'center'}); }, 150);
});
"""
