"""`survey draft`: a blog post's closing questions as a survey file that
`survey load` accepts unchanged (survey.drafts, survey.fetch)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from survey.cli import main
from survey.definitions import parse_definition
from survey.drafts import DraftError, draft, read_post
from survey.fetch import FetchError, fetch

# The seed post of this project, as published (a copy of ../shared/fixtures/).
FIXTURE = Path(__file__).parent / "data/posts/libraries-abroad-post.txt"
POSTS = Path(__file__).parent / "data/posts"


def drafted(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["draft", str(path)]) == 0
    text = capsys.readouterr().out
    parse_definition(text, str(path))  # what survey load reads, unchanged
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def shape(document: dict[str, Any]) -> list[tuple[str, str, dict[str, list[str]] | None]]:
    return [(q["label"], q["type"], q.get("show_if")) for q in document["questions"]]


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    return database_url


def test_the_seed_post_gives_its_four_prompts(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = drafted(FIXTURE, capsys)
    assert (document["slug"], document["title"], document["lang"]) == (
        "libraries-abroad",
        "Libraries Abroad",
        "en",
    )
    assert "Libraries Abroad" in document["intro"]
    keys = [q["key"] for q in document["questions"]]
    assert shape(document) == [
        ("Are you visiting other libraries when you go on vacation?", "yes_no", None),
        ("What are you learning?", "long_text", {keys[0]: ["yes"]}),
        ("Are you an international member?", "yes_no", None),
        ("How have you been using ALSC resources?", "long_text", {keys[2]: ["yes"]}),
    ]
    assert keys == ["visiting_other_libraries", "learning", "international_member",
                    "using_alsc_resources"]  # fmt: skip
    saved = tmp_path / "draft.yaml"
    assert main(["draft", str(FIXTURE), "--slug", "abroad"]) == 0
    saved.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["migrate"]) == 0
    assert main(["load", str(saved)]) == 0
    assert "abroad: created (version 1)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "title", "lang", "prompts"),
    [
        (
            "wordpress-es.html",
            "Bibliotecas en el extranjero",
            "es",
            [
                ("¿Visitas otras bibliotecas cuando vas de vacaciones?", "yes_no", False),
                ("¿Qué aprendes en ellas?", "long_text", True),
                ("¿Eres socio internacional?", "yes_no", False),
                ("¿Cómo usas los recursos de la asociación?", "long_text", True),
            ],
        ),
        (
            "blogger-fr.html",
            "Bibliothèques à l'étranger",
            "fr",
            [
                ("Visitez-vous d'autres bibliothèques pendant vos vacances ?", "yes_no", False),
                ("Qu'y apprenez-vous ?", "long_text", True),
                ("Êtes-vous membre à l'étranger ?", "yes_no", False),
                ("Comment utilisez-vous les ressources de l'association ?", "long_text", True),
            ],
        ),
        (
            "ghost-ar.html",
            "مكتبات في الخارج",
            "ar",
            [
                ("هل تزور مكتبات أخرى عندما تسافر في إجازة؟", "yes_no", False),
                ("ماذا تتعلم منها؟", "long_text", True),
                ("هل أنت عضو دولي؟", "yes_no", False),
                ("كيف تستخدم موارد الجمعية؟", "long_text", True),
            ],
        ),
        (
            "hugo-en.html",
            "Reading Outdoors",
            "en",
            [
                ("Have you ever held story time outdoors?", "yes_no", False),
                ("Which books worked best?", "long_text", True),
                ("Would you do it again?", "yes_no", False),
            ],
        ),
    ],
)
def test_posts_of_other_blogs_and_languages(
    env: str,
    capsys: pytest.CaptureFixture[str],
    name: str,
    title: str,
    lang: str,
    prompts: list[tuple[str, str, bool]],
) -> None:
    """Story questions earlier in the post, the blog's navigation, footer,
    share buttons, tags and comment form never become questions."""
    document = drafted(POSTS / name, capsys)
    assert (document["title"], document["lang"]) == (title, lang)
    got = [(label, kind, show_if is not None) for label, kind, show_if in shape(document)]
    assert got == prompts
    keys = [q["key"] for q in document["questions"]]
    assert len(set(keys)) == len(keys)


def test_a_post_without_prompts_is_a_clear_error(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    post = tmp_path / "plain.txt"
    post.write_text("A title\n\nWe read books. It was fun! I would really love to know.\n")
    assert main(["draft", str(post)]) == 1
    err = capsys.readouterr().err
    assert "no questions to the readers were found" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<p>x</p>" * 300_000, "larger than 2 MB"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text or HTML file"),
        (b"<div>" * 100_000 + b"Are you well?" + b"</div>" * 100_000, None),
    ],
)
def test_hostile_files_get_a_clear_error_and_no_traceback(
    env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str | None,
) -> None:
    post = tmp_path / "post.html"
    post.write_bytes(content)
    code = main(["draft", str(post)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if message is None:  # deeply nested markup still reads
        assert code == 0
    else:
        assert code == 1
        assert message in err


@pytest.fixture
def blog() -> Iterator[str]:
    """A blog on this machine (127.0.0.1): the posts, and redirects."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/hop/"):
                left = int(self.path.removeprefix("/hop/"))
                self.send_response(302)
                self.send_header("Location", f"/hop/{left - 1}" if left else "/wordpress-es.html")
                self.end_headers()
                return
            if self.path == "/elsewhere":
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd")
                self.end_headers()
                return
            body = (POSTS / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_address_on_this_machine_is_refused_unless_allowed(
    env: str, blog: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["draft", f"{blog}/wordpress-es.html"]) == 1
    assert "local or private address" in capsys.readouterr().err
    monkeypatch.setenv("SURVEY_FETCH_ALLOW_PRIVATE", "true")
    assert main(["draft", f"{blog}/wordpress-es.html"]) == 0
    assert "¿Eres socio internacional?" in capsys.readouterr().out
    assert main(["draft", f"{blog}/hop/2"]) == 0  # three redirects are followed
    capsys.readouterr()
    assert main(["draft", f"{blog}/hop/3"]) == 1
    assert "more than 3 redirects" in capsys.readouterr().err
    assert main(["draft", f"{blog}/elsewhere"]) == 1
    assert "not an http or https address" in capsys.readouterr().err


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://localhost/",
        "ftp://example.org/post",
    ],
)
def test_internal_addresses_and_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(FetchError):
        fetch(url)


def test_read_post_uses_the_marked_title_and_drops_the_site_name() -> None:
    post = read_post("<html><head><title>A post | My blog</title></head><body><p>Why?</p>")
    assert post.title == "A post"
    with pytest.raises(DraftError):
        draft(read_post("<html><body><p>Nothing asked here.</p></body></html>"))
