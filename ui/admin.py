"""The admin tab: add or delete documents, re-index, index status, feedback, widget snippet.

Present only when ``PASSERELLE_ADMIN_TOKEN`` is set. Every action checks, on the server,
the token typed in the tab (constant-time comparison); the UI hiding buttons is never
what protects anything. Stable API names: ``/admin_status``, ``/admin_upload``,
``/admin_plan``, ``/admin_reindex``, ``/admin_delete``, ``/admin_export_feedback``,
``/admin_snippet``.
"""

from __future__ import annotations

import hmac
import html
import logging
import re
import shutil
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import gradio as gr

from index.types import IngestReport
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


class AdminError(gr.Error):
    """An admin action refused; the message is shown to the user as is."""


def token_ok(expected: str | None, given: str | None) -> bool:
    """True when ``given`` is the admin token (constant time; never without a token set)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


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


def _md(text: str) -> str:
    """Text safe inside Markdown: HTML escaped, table pipes and emphasis neutralised."""
    return html.escape(text).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def report_markdown(report: IngestReport, *, done: bool) -> str:
    """The re-index plan (dry run) or what the run did, as +new / ~changed / −removed."""
    title = "### Ré-indexation terminée" if done else "### Plan de ré-indexation"
    lines = [title]
    for sign, label, items in (
        ("+", "nouveaux", report.added),
        ("~", "modifiés", report.updated),
        ("−", "supprimés", report.removed),
    ):
        lines.append(f"- **{sign} {len(items)} {label}**")
        lines.extend(f"    - {sign} {_md(item)}" for item in items)
    lines.append(f"- {len(report.unchanged)} inchangés")
    for failure in report.failed:
        lines.append(f"- ⚠ échec : {_md(failure.path)} — {_md(failure.error)}")
    if done:
        lines.append(f"\n{report.chunks} passages dans l'index · {report.seconds:.1f} s")
    elif not (report.added or report.updated or report.removed):
        lines.append("\nL'index est à jour : rien à faire.")
    return "\n".join(lines)


class AdminHandlers:
    """The Python side of every admin action; each one starts by checking the token."""

    def __init__(self, services: Services, feedback: FeedbackStore) -> None:
        self.settings = services.settings
        self.index = services.index
        self.feedback = feedback
        self.ingest_lock = _INGEST_LOCKS.setdefault(id(self.index), threading.Lock())

    def check(self, token: str | None) -> None:
        if not token_ok(self.settings.admin_token, token):
            raise AdminError("Jeton d'administration invalide.")

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

    def status(self, token: str) -> tuple[str, dict]:
        """(Markdown summary of the index, picker of deletable documents)."""
        self.check(token)
        st = self.index.status()
        docs = self.index.documents()
        lines = [
            "### État de l'index",
            f"- **{st.get('documents', len(docs))}** documents, "
            f"**{st.get('chunks', '?')}** passages",
            f"- Modèle d'embeddings : `{_md(str(st.get('embedding_model', '?')))}`",
            f"- Collection : `{_md(str(st.get('collection', '?')))}` "
            f"· stockage : `{_md(str(st.get('store', '?')))}`",
            "",
            "| Document | Fichier | Passages |",
            "| --- | --- | --- |",
        ]
        for d in docs:
            title = _md(str(d.get("title") or d["source"]))
            lines.append(f"| {title} | {_md(d['source'])} | {d.get('chunks', '')} |")
        return "\n".join(lines), gr.update(choices=self.corpus_files(), value=None)

    def upload(self, token: str, files: list[str] | None) -> tuple[str, dict]:
        """Copy uploaded files into the corpus folder (index with « Lancer la ré-indexation »)."""
        self.check(token)
        if not files:
            raise AdminError("Aucun fichier reçu.")
        limit = self.settings.max_file_mb * 1024 * 1024
        checked: list[tuple[Path, str]] = []
        for f in files:
            src = Path(f)
            name = check_upload_name(src.name)
            if src.stat().st_size > limit:
                raise AdminError(
                    f"{name} dépasse la taille maximale ({self.settings.max_file_mb:g} Mo)."
                )
            checked.append((src, name))
        self.corpus_dir.mkdir(parents=True, exist_ok=True)
        lines = ["### Fichiers ajoutés au corpus"]
        for src, name in checked:
            target = self.corpus_dir / name
            verb = "remplacé" if target.exists() else "ajouté"
            shutil.copyfile(src, target)
            lines.append(f"- {_md(name)} ({verb})")
        lines.append("\nCliquez sur « Lancer la ré-indexation » pour les rendre consultables.")
        return "\n".join(lines), gr.update(choices=self.corpus_files(), value=None)

    def plan(self, token: str) -> str:
        """What a re-index would do, changing nothing."""
        self.check(token)
        return report_markdown(self.index.ingest(dry_run=True), done=False)

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

    def reindex(self, token: str, progress: gr.Progress = gr.Progress()) -> tuple[str, dict]:  # noqa: B008
        """Mirror the corpus folder into the index."""
        self.check(token)
        report = self.run_ingest(progress)
        return report_markdown(report, done=True), gr.update(choices=self.corpus_files())

    def delete(
        self,
        token: str,
        source: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, dict]:
        """Remove one document from the corpus folder, then re-index."""
        self.check(token)
        if not source:
            raise AdminError("Choisissez le document à supprimer.")
        root = self.corpus_dir.resolve()
        target = (root / source).resolve()
        if not target.is_relative_to(root) or target == root or source not in self.corpus_files():
            raise AdminError(f"Document inconnu : {source!r}")
        target.unlink()
        report = self.run_ingest(progress)
        md = f"### {_md(source)} supprimé\n\n" + report_markdown(report, done=True)
        return md, gr.update(choices=self.corpus_files(), value=None)

    def export_feedback(self, token: str) -> tuple[str, str]:
        """The ratings as a JSONL file to download."""
        self.check(token)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path(tempfile.mkdtemp(prefix="passerelle-")) / f"avis-{stamp}.jsonl"
        n = self.feedback.export_jsonl(path)
        return str(path), f"{n} avis exportés."

    def snippet(self, token: str, request: gr.Request) -> str:
        """The ``<script>`` tag that adds the widget to a web page, for this server's URL."""
        self.check(token)
        base = base_url(request)
        try:
            from server.snippet import widget_snippet
        except ImportError:
            return f'<script src="{html.escape(base)}/widget.js" defer></script>'
        return widget_snippet(base)


def base_url(request: gr.Request | None) -> str:
    """This server's public URL as the browser reached it (proxy headers respected)."""
    if request is None:
        return "http://127.0.0.1:7860"
    headers = request.headers
    host = headers.get("x-forwarded-host") or headers.get("host") or "127.0.0.1:7860"
    proto = headers.get("x-forwarded-proto")
    if not proto:
        url = getattr(request, "url", None)
        proto = getattr(url, "scheme", None) or "http"
    return f"{proto}://{host.split(',')[0].strip()}"


def build_admin_tab(services: Services, feedback: FeedbackStore) -> None:
    """The admin tab, inside the current ``gr.Tabs``."""
    h = AdminHandlers(services, feedback)
    with gr.Tab("Administration", id="admin"):
        gr.Markdown(
            "Réservé aux administrateurs. Saisissez le jeton d'administration : "
            "il est vérifié par le serveur à chaque action."
        )
        token = gr.Textbox(
            label="Jeton d'administration", type="password", elem_id="psl-admin-token"
        )
        with gr.Row():
            status_btn = gr.Button("Afficher l'état de l'index")
        status_md = gr.Markdown()

        gr.Markdown("### Ajouter des documents")
        files = gr.File(
            label=f"Fichiers ({', '.join(SUPPORTED_SUFFIXES)} ; "
            f"{services.settings.max_file_mb:g} Mo au plus)",
            file_count="multiple",
            file_types=list(SUPPORTED_SUFFIXES),
            type="filepath",
        )
        upload_btn = gr.Button("Ajouter au corpus")
        upload_md = gr.Markdown()

        gr.Markdown("### Ré-indexer")
        with gr.Row():
            plan_btn = gr.Button("Voir le plan de ré-indexation")
            reindex_btn = gr.Button("Lancer la ré-indexation", variant="primary")
        plan_md = gr.Markdown()

        gr.Markdown("### Supprimer un document")
        with gr.Row(equal_height=True):
            del_pick = gr.Dropdown(
                choices=h.corpus_files(),
                value=None,
                label="Document du corpus",
                scale=3,
                allow_custom_value=True,  # checked by the handler against the corpus folder
            )
            del_btn = gr.Button("Supprimer et ré-indexer", variant="stop", scale=1)
        del_md = gr.Markdown()

        gr.Markdown("### Avis des utilisateurs (J'aime / Je n'aime pas)")
        with gr.Row(equal_height=True):
            export_btn = gr.Button("Exporter les avis (JSONL)")
            export_md = gr.Markdown()
        export_file = gr.File(label="Fichier exporté", interactive=False)

        gr.Markdown("### Intégrer le widget sur un site")
        snippet_btn = gr.Button("Afficher le code du widget")
        snippet_code = gr.Code(language="html", label="À coller dans la page", interactive=False)

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
    export_btn.click(
        h.export_feedback, [token], [export_file, export_md], api_name="admin_export_feedback"
    )
    snippet_btn.click(h.snippet, [token], [snippet_code], api_name="admin_snippet")
