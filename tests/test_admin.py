"""The admin tab over the real app: upload, re-index, ask, delete, ask again; token checks."""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio.utils import get_upload_folder
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from helpers import text_of

from server.services import Services
from settings import ROOT, Settings
from ui.admin import AdminError, AdminHandlers, check_upload_name, token_ok
from ui.chat import build_ui
from ui.devserver import serve_in_thread
from ui.feedback import FeedbackStore

TOKEN = "jeton-de-test-4f9a"
NEW_DOC = (
    "Le programme Hirondelle des terrils\n\n"
    "Le programme Hirondelle des terrils protège les colonies d'hirondelles de rivage qui "
    "nichent dans les terrils du Bassin Minier. Il est coordonné par Jeanne Castelain, "
    "chargée de mission biodiversité, et financé à hauteur de 480 000 euros par le "
    "Conservatoire des terrils entre 2021 et 2024.\n"
)
QUESTION = "Qui coordonne le programme Hirondelle des terrils ?"


@pytest.fixture(scope="module")
def admin_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("admin")
    shutil.copytree(ROOT / "corpus", root / "corpus")
    return Settings(
        data_dir=root / "data",
        corpus_dir=root / "corpus",
        generator="extractive",
        admin_token=TOKEN,
    )


@pytest.fixture(scope="module")
def admin_services(admin_settings: Settings) -> Services:
    services = Services.load(admin_settings)
    assert services.index.ingest().chunks > 0
    return services


@pytest.fixture(scope="module")
def base_url(admin_services: Services) -> Iterator[str]:
    import app

    with serve_in_thread(app.create_app(admin_services)) as url:
        yield url


def test_token_check_is_strict() -> None:
    assert token_ok("abc", "abc")
    assert not token_ok("abc", "abd") and not token_ok("abc", "") and not token_ok("abc", None)
    assert not token_ok(None, "") and not token_ok("", "")


@pytest.mark.parametrize(
    "name", ["../evil.txt", "..\\evil.txt", "sub/evil.txt", ".hidden.txt", "x.exe", "x", ""]
)
def test_unsafe_or_unsupported_names_are_refused(name: str) -> None:
    with pytest.raises(AdminError):
        check_upload_name(name)


def test_plain_names_are_accepted() -> None:
    assert check_upload_name("Compte rendu (2024) é.pdf") == "Compte rendu (2024) é.pdf"


def test_files_over_the_size_limit_are_refused(admin_services: Services, tmp_path: Path) -> None:
    small = admin_services.settings.model_copy(update={"max_file_mb": 0.0001})
    h = AdminHandlers(
        Services(small, admin_services.index, admin_services.engine), FeedbackStore(tmp_path / "f")
    )
    # as Gradio stores a browser's upload: a folder of its upload folder
    big = Path(get_upload_folder()) / f"test-{tmp_path.name}" / "gros.txt"
    big.parent.mkdir(parents=True, exist_ok=True)
    big.write_text("x" * 1000)
    with pytest.raises(AdminError, match="taille maximale"):
        h.upload(TOKEN, [str(big)])
    assert not (Path(small.corpus_dir) / "gros.txt").exists()
    assert not big.exists()  # the refused upload is not left in the temp folder


def test_admin_tab_absent_without_token(settings: Settings) -> None:
    class Idle:  # build_ui only reads documents at load time, not at build time
        def documents(self) -> list:
            return []

    names = {
        fn.api_name
        for fn in build_ui(Services(settings, Idle(), None)).fns.values()  # type: ignore[arg-type]
    }
    assert "ask" in names and not any(str(n).startswith("admin_") for n in names)


def admin_client(base_url: str) -> Client:
    """A gradio_client session whose uploads carry the token (the browser: a cookie)."""
    return Client(base_url + "/", verbose=False, headers={"X-Passerelle-Admin": TOKEN})


def test_wrong_or_missing_token_is_refused(base_url: str, admin_settings: Settings) -> None:
    # three wrong tokens: under the throttle (5 per client), which tests/test_security.py checks
    client = Client(base_url + "/", verbose=False)
    for token in ("mauvais", ""):
        with pytest.raises(AppError, match="Jeton d'administration invalide"):
            client.predict(token, api_name="/admin_status")
        with pytest.raises(AppError, match="Jeton"):
            client.predict(token, api_name="/admin_plan")
    with pytest.raises(AppError, match="Jeton"):
        client.predict(
            "mauvais", "mission-bassin-minier-international.txt", api_name="/admin_delete"
        )
    corpus = Path(admin_settings.corpus_dir)
    assert not (corpus / "intrus.txt").exists()
    assert (corpus / "mission-bassin-minier-international.txt").exists()


def test_upload_reindex_ask_delete_ask(
    base_url: str, admin_settings: Settings, tmp_path: Path
) -> None:
    admin = admin_client(base_url)
    doc = tmp_path / "hirondelle-des-terrils.txt"
    doc.write_text(NEW_DOC, encoding="utf-8")
    corpus = Path(admin_settings.corpus_dir)

    with pytest.raises(AppError, match="non pris en charge|Invalid file type"):
        bad = tmp_path / "programme.exe"
        bad.write_bytes(b"MZ")
        admin.predict(TOKEN, [handle_file(str(bad))], api_name="/admin_upload")
    assert not (corpus / "programme.exe").exists()

    message, _ = admin.predict(TOKEN, [handle_file(str(doc))], api_name="/admin_upload")
    assert "hirondelle-des-terrils.txt" in message
    assert (corpus / "hirondelle-des-terrils.txt").read_text(encoding="utf-8") == NEW_DOC

    plan = admin.predict(TOKEN, api_name="/admin_plan")
    assert "+ 1 nouveaux" in plan and "hirondelle-des-terrils.txt" in plan

    # the chat keeps answering while the re-index runs
    job = admin.submit(TOKEN, api_name="/admin_reindex")
    chat, _, _ = Client(base_url + "/", verbose=False).predict(
        "Quels partenaires ont participé au programme RESCUE ?", api_name="/ask"
    )
    assert "psl-cite" in text_of(chat[-1])
    report, _ = job.result()
    assert "Ré-indexation terminée" in report and "+ 1 nouveaux" in report

    status, _ = admin.predict(TOKEN, api_name="/admin_status")
    assert "<strong>3</strong> documents" in status

    user = Client(base_url + "/", verbose=False)
    chat, sources, _ = user.predict(QUESTION, api_name="/ask")
    answer = html.unescape(text_of(chat[-1]))
    assert "psl-refusal" not in answer and "Castelain" in answer
    assert "psl-cite" in answer and "hirondelle" in html.unescape(sources).lower()

    message, _ = admin.predict(TOKEN, "hirondelle-des-terrils.txt", api_name="/admin_delete")
    assert "supprimé" in message and "− 1 supprimés" in message
    assert not (corpus / "hirondelle-des-terrils.txt").exists()

    chat, sources, _ = Client(base_url + "/", verbose=False).predict(QUESTION, api_name="/ask")
    answer = text_of(chat[-1])
    assert 'class="psl-refusal"' in answer and "Castelain" not in answer


def test_delete_refuses_paths_outside_the_corpus(base_url: str) -> None:
    admin = admin_client(base_url)
    with pytest.raises(AppError, match="Document inconnu"):
        admin.predict(TOKEN, "../data/feedback.sqlite3", api_name="/admin_delete")


def test_snippet_and_feedback_export(base_url: str, admin_services: Services) -> None:
    admin = admin_client(base_url)
    snippet = admin.predict(TOKEN, api_name="/admin_snippet")
    assert f'src="{base_url}/widget.js"' in snippet
    FeedbackStore.for_data_dir(admin_services.settings.data_dir).add("Q ?", "R [1].", [], 1)
    message = admin.predict(TOKEN, api_name="/admin_export_feedback")
    assert "avis" in message and 'href="admin/feedback.jsonl"' in message
    export = httpx.get(f"{base_url}/admin/feedback.jsonl", headers={"X-Passerelle-Admin": TOKEN})
    assert export.status_code == 200
    assert [json.loads(line)["question"] for line in export.text.splitlines()][-1] == "Q ?"
