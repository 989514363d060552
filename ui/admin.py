"""The admin tab: add or delete documents, re-index, index status, feedback, widget snippet.

Present only when ``PASSERELLE_ADMIN_TOKEN`` is set. Every action checks, on the server,
the token typed in the tab (``server.adminauth``: constant-time comparison, failures
throttled per client); the UI hiding buttons is never what protects anything. Document
text (titles, file names, passages) is shown through ``gr.HTML``, escaped: never as
Markdown, whose links and images a document title could smuggle in. Stable API names:
``/admin_status``, ``/admin_upload``, ``/admin_plan``, ``/admin_reindex``, ``/admin_delete``,
``/admin_export_feedback``, ``/admin_snippet``.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import threading
import time
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from index.types import IngestReport
from ingest.instructions import instruction_spans
from server.adminauth import AdminAuth, AdminDenied, token_ok
from server.clients import request_address
from server.keys import KeyStore
from server.services import Services
from ui.feedback import FeedbackStore

log = logging.getLogger(__name__)

try:
    from ingest.loaders import SUPPORTED_SUFFIXES
except ImportError:  # the loaders decide what can be indexed; this is their list today
    SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")

# Letters (accents included), digits, spaces and . _ - ( ) ; no separators, no leading dot.
SAFE_NAME_RE = re.compile(r"^[^\W_][\w .()\-]{0,150}$")
_INGEST_LOCKS: dict[int, threading.Lock] = {}


__all__ = ["AdminError", "AdminHandlers", "build_admin_tab", "check_upload_name", "token_ok"]

# Sets the admin session cookie when the token is typed, so that the file picker's uploads
# (sent by the browser before any button is clicked) pass ``server.uploads.UploadGate``.
SESSION_JS = """(token) => {
  if (token) fetch('admin/session', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify({token: token})});
  return [];
}"""


class AdminError(gr.Error):
    """An admin action refused; the message is shown to the user as is (no traceback)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, print_exception=False)


def check_upload_name(name: str) -> str:
    """The file name to store, or ``AdminError`` for unsupported types and path tricks."""
    if not name or name != Path(name).name or "/" in name or "\\" in name or ".." in name:
        raise AdminError(f"Nom de fichier refusé : {name!r}")
    if not SAFE_NAME_RE.match(name):
        raise AdminError(f"Nom de fichier refusé : {name!r} (caractères non autorisés)")
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise AdminError(
            f"Type de fichier non pris en charge : {name!r}. "
            f"Formats acceptés : {', '.join(SUPPORTED_SUFFIXES)}"
        )
    return name


def _esc(text: object) -> str:
    """Document-derived text as inert HTML text (no tag, no Markdown: gr.HTML shows it)."""
    return html.escape(str(text), quote=True)


def _items(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def report_html(report: IngestReport, *, done: bool) -> str:
    """The re-index plan (dry run) or what the run did, as +new / ~changed / −removed."""
    title = "Ré-indexation terminée" if done else "Plan de ré-indexation"
    rows = []
    for sign, label, items in (
        ("+", "nouveaux", report.added),
        ("~", "modifiés", report.updated),
        ("−", "supprimés", report.removed),
    ):
        inner = _items([f"{sign} {_esc(item)}" for item in items]) if items else ""
        rows.append(f"<strong>{sign} {len(items)} {label}</strong>{inner}")
    rows.append(f"{len(report.unchanged)} inchangés")
    rows += [f"⚠ échec : {_esc(f.path)} — {_esc(f.error)}" for f in report.failed]
    out = f"<h3>{title}</h3>{_items(rows)}"
    if done:
        out += f"<p>{report.chunks} passages dans l'index · {report.seconds:.1f} s</p>"
    elif not (report.added or report.updated or report.removed):
        out += "<p>L'index est à jour : rien à faire.</p>"
    return out


def last_run_html(last: dict | None) -> str:
    """The last ingest (``DATA_DIR/last_ingest.json``: any ingest, CLI or watched folder
    included): when, what it read, its counts, failures and changed documents."""
    if not last:
        return "<h3>Dernière indexation</h3><p>Aucune indexation enregistrée.</p>"
    docs = last.get("documents", {})
    rows = []
    for sign, key, label in (("+", "added", "nouveaux"), ("~", "updated", "modifiés"),
                             ("−", "removed", "supprimés")):
        names = [str(n) for n in docs.get(key, [])]
        inner = _items([f"{sign} {_esc(n)}" for n in names]) if names else ""
        rows.append(f"<strong>{sign} {_esc(last.get(key, len(names)))} {label}</strong>{inner}")
    rows.append(f"{_esc(last.get('unchanged', 0))} inchangés")
    rows += [
        f"⚠ échec : {_esc(f.get('path'))} — {_esc(f.get('error'))}" for f in last.get("failed", [])
    ]
    read = ", ".join(str(t) for t in last.get("target", []))
    return (
        f"<h3>Dernière indexation</h3><p>Terminée le {_esc(last.get('finished', '?'))} "
        f"(UTC) · {_esc(read)} · {_esc(last.get('seconds', '?'))} s</p>{_items(rows)}"
    )


class AdminHandlers:
    """The Python side of every admin action; each one starts by checking the token."""

    def __init__(
        self, services: Services, feedback: FeedbackStore, auth: AdminAuth | None = None
    ) -> None:
        self.settings = services.settings
        self.index = services.index
        self.feedback = feedback
        self.auth = auth or AdminAuth(self.settings.admin_token)
        self.ingest_lock = _INGEST_LOCKS.setdefault(id(self.index), threading.Lock())

    def check(self, token: str | None, request: gr.Request | None = None) -> None:
        """The token, checked and throttled per client (``server.adminauth``)."""
        try:
            self.auth.verify(token, request_address(request))
        except AdminDenied as exc:
            raise AdminError(str(exc)) from None

    @property
    def corpus_dir(self) -> Path:
        return Path(self.settings.corpus_dir)

    def corpus_files(self) -> list[str]:
        """Supported files of the corpus folder, relative to it."""
        root = self.corpus_dir
        if not root.is_dir():
            return []
        return sorted(
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
        )

    def status(self, token: str, request: gr.Request | None = None) -> tuple[str, dict]:
        """(HTML summary of the index and flagged sentences, picker of deletable documents)."""
        self.check(token, request)
        st = self.index.status()
        docs = self.index.documents()
        rows = "".join(
            f"<tr><td>{_esc(d.get('title') or d['source'])}</td><td>{_esc(d['source'])}</td>"
            f"<td>{_esc(d.get('chunks', ''))}</td></tr>"
            for d in docs
        )
        out = (
            "<h3>État de l'index</h3><ul>"
            f"<li><strong>{_esc(st.get('documents', len(docs)))}</strong> documents, "
            f"<strong>{_esc(st.get('chunks', '?'))}</strong> passages</li>"
            f"<li>Modèle d'embeddings : <code>{_esc(st.get('embedding_model', '?'))}</code></li>"
            f"<li>Collection : <code>{_esc(st.get('collection', '?'))}</code> · stockage : "
            f"<code>{_esc(st.get('store', '?'))}</code></li></ul>"
            "<table><thead><tr><th>Document</th><th>Fichier</th><th>Passages</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
        out += last_run_html(self.index.last_report())
        return out + self.flagged_html(docs), gr.update(choices=self.corpus_files(), value=None)

    def flagged_html(self, docs: list[dict]) -> str:
        """Sentences addressed to the assistant (``ingest.instructions``), per document.

        They stay in the index and findable; the answer engine keeps them out of prompts
        and quotes. Listed here so that an admin can check and fix the source.
        """
        found = []
        for d in docs:
            text = self.index.document_text(d["source"]) or ""
            for start, end in instruction_spans(text):
                found.append(
                    f"<strong>{_esc(d.get('title') or d['source'])}</strong> "
                    f"(caractères {start}–{end}) : « {_esc(text[start:end])} »"
                )
        if not found:
            return "<p>Aucune phrase adressée à l'assistant n'a été repérée.</p>"
        return (
            "<h3>Phrases adressées à l'assistant (injection possible)</h3>"
            "<p>Elles ne sont ni citées ni données au modèle comme consignes.</p>" + _items(found)
        )

    def upload(
        self, token: str, files: list[str] | None, request: gr.Request | None = None
    ) -> tuple[str, dict]:
        """Copy uploaded files into the corpus folder (index with « Lancer la ré-indexation »).

        Only files this server received through its (admin-gated) upload route are taken:
        Gradio refuses any other path before this runs (``app.py`` arms its check), and
        this handler checks the token before it reads, sizes or copies anything.
        """
        self.check(token, request)
        if not files:
            raise AdminError("Aucun fichier reçu.")
        uploads = Path(get_upload_folder()).resolve()
        try:
            checked = [self._checked_upload(Path(f), uploads) for f in files]
            self.corpus_dir.mkdir(parents=True, exist_ok=True)
            lines = []
            for src, name in checked:
                target = self.corpus_dir / name
                verb = "remplacé" if target.exists() else "ajouté"
                shutil.copyfile(src, target)
                lines.append(f"{_esc(name)} ({verb})")
        finally:
            for f in files:
                _discard_upload(Path(f), uploads)
        return (
            f"<h3>Fichiers ajoutés au corpus</h3>{_items(lines)}"
            "<p>Cliquez sur « Lancer la ré-indexation » pour les rendre consultables.</p>",
            gr.update(choices=self.corpus_files(), value=None),
        )

    def _checked_upload(self, src: Path, uploads: Path) -> tuple[Path, str]:
        if not src.resolve().is_relative_to(uploads):
            raise AdminError("Fichier refusé : il n'a pas été envoyé par ce navigateur.")
        name = check_upload_name(src.name)
        if src.stat().st_size > self.settings.max_file_bytes:
            raise AdminError(
                f"{name} dépasse la taille maximale ({self.settings.max_file_mb:g} Mo)."
            )
        return src, name

    def plan(self, token: str, request: gr.Request | None = None) -> str:
        """What a re-index would do, changing nothing."""
        self.check(token, request)
        return report_html(self.index.ingest(dry_run=True), done=False)

    def run_ingest(self, progress: gr.Progress | None = None) -> IngestReport:
        """Ingest in a worker thread, reporting elapsed time, so chat answers meanwhile.

        The index service keeps serving searches from the previous index until the new
        one is complete; one ingest at a time per index.
        """
        if not self.ingest_lock.acquire(blocking=False):
            raise AdminError("Une ré-indexation est déjà en cours.")
        try:
            box: dict[str, object] = {"fraction": 0.0, "current": ""}

            def on_progress(fraction: float, source: str) -> None:
                box["fraction"], box["current"] = fraction, source

            def work() -> None:
                try:
                    box["report"] = self.index.ingest(progress=on_progress)
                except Exception as exc:  # reported to the admin below
                    log.exception("ingest failed")
                    box["error"] = exc

            worker = threading.Thread(target=work, name="passerelle-ingest", daemon=True)
            started = time.monotonic()
            worker.start()
            while worker.is_alive():
                if progress is not None:
                    elapsed = int(time.monotonic() - started)
                    progress(
                        float(box["fraction"]),  # type: ignore[arg-type]
                        desc=f"Indexation en cours ({elapsed} s) : {box['current']}",
                    )
                worker.join(0.5)
            if "error" in box:
                raise AdminError(f"La ré-indexation a échoué : {box['error']}")
            report = box["report"]
            assert isinstance(report, IngestReport)
            return report
        finally:
            self.ingest_lock.release()

    def reindex(
        self,
        token: str,
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, dict]:
        """Mirror the corpus folder into the index."""
        self.check(token, request)
        report = self.run_ingest(progress)
        return report_html(report, done=True), gr.update(choices=self.corpus_files())

    def delete(
        self,
        token: str,
        source: str | None,
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, dict]:
        """Remove one document from the corpus folder, then re-index."""
        self.check(token, request)
        if not source:
            raise AdminError("Choisissez le document à supprimer.")
        root = self.corpus_dir.resolve()
        target = (root / source).resolve()
        if not target.is_relative_to(root) or target == root or source not in self.corpus_files():
            raise AdminError(f"Document inconnu : {source!r}")
        target.unlink()
        report = self.run_ingest(progress)
        out = f"<h3>{_esc(source)} supprimé</h3>" + report_html(report, done=True)
        return out, gr.update(choices=self.corpus_files(), value=None)

    def export_feedback(self, token: str, request: gr.Request | None = None) -> str:
        """A link to the ratings as JSONL, streamed by ``GET /admin/feedback.jsonl``.

        The export is never written to a file: a file returned to Gradio would be served
        to anyone who learns its URL.
        """
        self.check(token, request)
        n = self.feedback.count()
        return (
            f'<p>{n} avis. <a href="admin/feedback.jsonl" download="avis.jsonl">'
            "Télécharger les avis (JSONL)</a></p>"
        )

    def snippet(self, token: str, request: gr.Request | None = None) -> str:
        """The ``<script>`` tag that adds the widget to a web page, for this server's URL."""
        self.check(token, request)
        from server.snippet import widget_snippet

        return widget_snippet(base_url(request))

    # -- API keys (server/keys.py; the same store as ``passerelle keys``) -------------
    def keys_html(self, token: str, request: gr.Request | None = None) -> str:
        """The keys in use: id, name, collections, creation date (never the keys)."""
        self.check(token, request)
        default = self.settings.key_rate_limit_per_minute
        rows = "".join(
            f"<tr><td><code>{html.escape(k.id)}</code></td><td>{html.escape(k.name)}</td>"
            f"<td>{html.escape(', '.join(k.collections))}</td><td>{html.escape(k.created)}</td>"
            f"<td>{k.rate_limit_per_minute or default}/min</td></tr>"
            for k in KeyStore(self.settings.data_dir).list()
        )
        if not rows:
            return "<p>Aucune clé d'API.</p>"
        return (
            "<table><tr><th>Id</th><th>Nom</th><th>Collections</th><th>Créée</th>"
            f"<th>Limite</th></tr>{rows}</table>"
        )

    def create_key(
        self, token: str, name: str, collections: str, request: gr.Request | None = None
    ) -> tuple[str, str]:
        """A new key, shown once in the first output; the refreshed list in the second."""
        self.check(token, request)
        try:
            entry, secret = KeyStore(self.settings.data_dir).create(name, collections)
        except ValueError as exc:
            raise AdminError(str(exc)) from None
        shown = (
            f"<p>Clé « {html.escape(entry.name)} » créée. Copiez-la maintenant, elle ne sera "
            f"plus affichée :</p><pre>{html.escape(secret)}</pre>"
        )
        return shown, self.keys_html(token, request)

    def revoke_key(self, token: str, key: str, request: gr.Request | None = None) -> str:
        """Revoke a key by id or name; the refreshed list."""
        self.check(token, request)
        if KeyStore(self.settings.data_dir).revoke((key or "").strip()) is None:
            raise AdminError(f"Aucune clé {key!r}.")
        return self.keys_html(token, request)


def _discard_upload(path: Path, uploads: Path) -> None:
    """Delete an uploaded temp file (and its folder if empty); never outside ``uploads``."""
    try:
        path = path.resolve()
        if path.is_relative_to(uploads) and path.is_file():
            path.unlink()
            if path.parent != uploads and not any(path.parent.iterdir()):
                path.parent.rmdir()
    except OSError:
        log.warning("could not delete the uploaded file %s", path)


def base_url(request: gr.Request | None) -> str:
    """This server's URL as the browser reached it: ``Host`` (checked against
    ``PASSERELLE_ALLOWED_HOSTS``) and the scheme (from ``X-Forwarded-Proto`` only when the
    proxy is trusted: ``server/clients.py``)."""
    if request is None:
        return "http://127.0.0.1:7860"
    host = request.headers.get("host") or "127.0.0.1:7860"
    url = getattr(request, "url", None)
    proto = getattr(url, "scheme", None) or "http"
    return f"{proto}://{host}"


def build_admin_tab(
    services: Services, feedback: FeedbackStore, auth: AdminAuth | None = None
) -> None:
    """The admin tab, inside the current ``gr.Tabs``.

    Built empty: no document name, title or count is in the page config (``/config``)
    until an action with the right token fills it.
    """
    h = AdminHandlers(services, feedback, auth)
    with gr.Tab("Administration", id="admin"):
        gr.Markdown(
            "Réservé aux administrateurs. Saisissez le jeton d'administration : "
            "il est vérifié par le serveur à chaque action."
        )
        token = gr.Textbox(
            label="Jeton d'administration", type="password", elem_id="psl-admin-token"
        )
        for event in (token.blur, token.submit):  # the cookie lets the file picker upload
            event(None, [token], None, js=SESSION_JS, api_visibility="private")
        with gr.Row():
            status_btn = gr.Button("Afficher l'état de l'index")
        status_md = gr.HTML()

        gr.Markdown("### Ajouter des documents")
        files = gr.File(
            label=f"Fichiers ({', '.join(SUPPORTED_SUFFIXES)} ; "
            f"{services.settings.max_file_mb:g} Mo au plus, 1 Mo = 1 000 000 octets)",
            file_count="multiple",
            file_types=list(SUPPORTED_SUFFIXES),
            type="filepath",
        )
        upload_btn = gr.Button("Ajouter au corpus")
        upload_md = gr.HTML()

        gr.Markdown("### Ré-indexer")
        with gr.Row():
            plan_btn = gr.Button("Voir le plan de ré-indexation")
            reindex_btn = gr.Button("Lancer la ré-indexation", variant="primary")
        plan_md = gr.HTML()

        gr.Markdown("### Supprimer un document")
        with gr.Row(equal_height=True):
            del_pick = gr.Dropdown(
                choices=[],  # filled by an action with the token: /config lists no file
                value=None,
                label="Document du corpus",
                scale=3,
                allow_custom_value=True,  # checked by the handler against the corpus folder
            )
            del_btn = gr.Button("Supprimer et ré-indexer", variant="stop", scale=1)
        del_md = gr.HTML()

        gr.Markdown("### Avis des utilisateurs (J'aime / Je n'aime pas)")
        with gr.Row(equal_height=True):
            export_btn = gr.Button("Exporter les avis (JSONL)")
            export_md = gr.HTML()

        gr.Markdown("### Intégrer le widget sur un site")
        snippet_btn = gr.Button("Afficher le code du widget")
        snippet_code = gr.Code(language="html", label="À coller dans la page", interactive=False)

        gr.Markdown("### Clés d'API (`/api`, `/v1`)")
        with gr.Row(equal_height=True):
            key_name = gr.Textbox(label="Nom", placeholder="site-partenaire")
            key_collections = gr.Textbox(label="Collections", placeholder="public (ou *)")
            key_create = gr.Button("Créer la clé")
        key_shown = gr.HTML()
        with gr.Row(equal_height=True):
            key_revoke_id = gr.Textbox(label="Id ou nom de la clé à révoquer")
            key_list_btn = gr.Button("Afficher les clés")
            key_revoke = gr.Button("Révoquer", variant="stop")
        key_list = gr.HTML()

    status_btn.click(h.status, [token], [status_md, del_pick], api_name="admin_status")
    upload_btn.click(h.upload, [token, files], [upload_md, del_pick], api_name="admin_upload")
    plan_btn.click(h.plan, [token], [plan_md], api_name="admin_plan")
    reindex_btn.click(
        h.reindex, [token], [plan_md, del_pick], api_name="admin_reindex", concurrency_id="ingest"
    )
    del_btn.click(
        h.delete,
        [token, del_pick],
        [del_md, del_pick],
        api_name="admin_delete",
        concurrency_id="ingest",
    )
    export_btn.click(h.export_feedback, [token], [export_md], api_name="admin_export_feedback")
    snippet_btn.click(h.snippet, [token], [snippet_code], api_name="admin_snippet")
    key_list_btn.click(h.keys_html, [token], [key_list], api_name="admin_keys")
    key_create.click(
        h.create_key,
        [token, key_name, key_collections],
        [key_shown, key_list],
        api_name="admin_create_key",
    )
    key_revoke.click(h.revoke_key, [token, key_revoke_id], [key_list], api_name="admin_revoke_key")
