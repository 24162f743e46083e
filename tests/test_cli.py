"""The `survey` command, run as users run it."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from survey import store
from survey.cli import main
from survey.db import Database
from survey.settings import Settings
from tests.helpers import BUNDLED, create_staff


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    return database_url


def test_migrate_load_and_reload(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["load", str(BUNDLED)]) == 0
    assert main(["load", str(BUNDLED)]) == 0
    out = capsys.readouterr().out
    assert "libraries-abroad: created (version 1)" in out
    assert "libraries-abroad: unchanged (version 1)" in out


def test_a_bad_file_loads_nothing_and_says_why(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("slug: good\ntitle: Good\nquestions: [{key: a, type: yes_no, label: A}]\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: bad\ntitle: Bad\nquestions: [{key: a, type: slider, label: A}]\n")
    assert main(["load", str(good), str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: question 'a': unknown question type" in err
    assert "Traceback" not in err
    assert main(["export", "good"]) == 1
    assert "there is no survey 'good'" in capsys.readouterr().err


def test_token_create_prints_the_token_alone_on_the_last_line(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "create", "newsletter script"]) == 0
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert last.startswith("rs_")
    assert " " not in last
    assert len(last) > 40


def test_cli_export_gives_the_same_bytes_as_http(
    env: str,
    client: TestClient,
    token: str,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    for answers in (
        {"visits_libraries": "often", "lessons": 'Línea 1\nline 2, "quoted"'},
        {"visits_libraries": "not_yet", "anything_else": "=1+1"},
    ):
        assert (
            client.post(
                "/api/surveys/libraries-abroad/responses", json={"answers": answers}
            ).status_code
            == 201
        )
    headers = {"Authorization": f"Bearer {token}"}
    for query, args in (
        ("", []),
        ("?header=labels&bom=1", ["--header", "labels", "--bom"]),
        ("?since=2000-01-01&until=2999-01-01", ["--since", "2000-01-01", "--until", "2999-01-01"]),
    ):
        http = client.get(f"/api/surveys/libraries-abroad/responses.csv{query}", headers=headers)
        out = tmp_path / "export.csv"
        assert main(["export", "libraries-abroad", "-o", str(out), *args]) == 0
        assert out.read_bytes() == http.content
        capsysbinary.readouterr()
        assert main(["export", "libraries-abroad", *args]) == 0
        assert capsysbinary.readouterr().out == http.content
    assert http.content.count(b"\r\n") == 3


def test_export_with_a_bad_date_is_a_clear_error(
    env: str, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["load", str(BUNDLED)])
    assert main(["export", "libraries-abroad", "--since", "last week"]) == 1
    assert "since must be a date like 2027-01-31" in capsys.readouterr().err


def test_the_installed_console_script_runs(env: str) -> None:
    script = Path(sys.executable).with_name("survey")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for command in ("serve", "migrate", "load", "export", "token"):
        assert command in result.stdout


def test_an_export_does_not_load_what_only_other_commands_need(env: str, tmp_path: Path) -> None:
    # A 100,000-row export takes about a second, much of it Python's start-up:
    # Alembic (migrations) and Argon2 (passwords) are loaded only by the
    # commands that use them.
    assert main(["load", str(BUNDLED)]) == 0
    probe = (
        "import sys\n"
        "from survey.cli import main\n"
        "code = main(['export', 'libraries-abroad', '-o', sys.argv[1]])\n"
        "print(code, [m for m in ('alembic', 'pwdlib', 'argon2') if m in sys.modules])\n"
    )
    out = tmp_path / "out.csv"
    result = subprocess.run(
        [sys.executable, "-c", probe, str(out)], capture_output=True, text=True, check=False
    )
    assert result.stdout.split() == ["0", "[]"], result.stderr
    assert out.read_text(encoding="utf-8").startswith("response_id,submitted_at,")


def test_user_create_list_disable(
    env: str,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import io

    from survey import store
    from survey.accounts import verify_password

    password = "a secret that is long"
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    assert (
        main(["user", "create", "Editor@Example.org", "--role", "admin", "--password-stdin"]) == 0
    )
    assert main(["user", "list"]) == 0
    out = capsys.readouterr().out
    assert "Created admin editor@example.org" in out
    assert "editor@example.org\tadmin\tactive\tlast sign-in: never" in out
    assert password not in out + caplog.text
    with database.session() as s:
        user = store.find_user(s, email="editor@example.org")
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(password, user.password_hash)

    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    assert main(["user", "create", "editor@example.org", "--password-stdin"]) == 1
    assert "already an account" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "create", "x@example.org", "--password-stdin"]) == 1
    assert "at least 12 characters" in capsys.readouterr().err

    assert main(["user", "disable", "editor@example.org"]) == 0
    assert main(["user", "list"]) == 0
    assert "editor@example.org\tadmin\tdisabled" in capsys.readouterr().out
    assert main(["user", "disable", "nobody@example.org"]) == 1


def test_user_create_without_a_terminal_says_what_to_do(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["user", "create", "x@example.org"]) == 1
    assert "use --password-stdin" in capsys.readouterr().err


def test_a_yaml_bomb_is_refused_without_a_traceback(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("slug: deep\ntitle: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert main(["load", str(deep)]) == 1
    err = capsys.readouterr().err
    assert "nested more than 20 levels deep" in err
    assert "Traceback" not in err


def test_user_set_password_ends_the_sessions_and_refuses_a_weak_one(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a secret that is long\n"))
    assert main(["user", "create", "ed@example.org", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("Password1234\n"))
    assert main(["user", "set-password", "ed@example.org", "--password-stdin"]) == 1
    assert "common or easy to guess" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("marmalade orbit lantern quietly\n"))
    assert main(["user", "set-password", "ED@example.org", "--password-stdin"]) == 0
    assert "New password set for ed@example.org" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("marmalade orbit lantern quietly\n"))
    assert main(["user", "set-password", "nobody@example.org", "--password-stdin"]) == 1


def test_token_create_with_owner_scope_and_expiry(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["load", str(BUNDLED)]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a secret that is long\n"))
    assert main(["user", "create", "ed@example.org", "--password-stdin"]) == 0
    capsys.readouterr()
    args = ["--owner", "ed@example.org", "--survey", "libraries-abroad", "--expires-in-days", "7"]
    assert main(["token", "create", "weekly", *args]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("rs_")
    assert main(["token", "create", "x", "--owner", "nobody@example.org"]) == 1
    assert main(["token", "create", "x", "--survey", "nope"]) == 1


def test_a_bad_setting_is_named_in_one_line_not_a_traceback(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SURVEY_SMTP_URL", "mail.example.org")
    monkeypatch.setenv("SURVEY_ALLOWED_HOSTS", "")
    monkeypatch.setenv("SURVEY_DIGEST_HOUR", "25")
    assert main(["webhook", "list"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "survey: SURVEY_SMTP_URL: write it as smtp://… or smtps://…" in err
    assert any(line.startswith("survey: SURVEY_DIGEST_HOUR: ") for line in err)
    assert not any("Traceback" in line for line in err)


def test_notify_chooses_a_staff_members_email(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["load", str(BUNDLED)]) == 0
    assert main(["notify", "ana@example.org", "libraries-abroad", "--daily"]) == 1
    assert "there is no staff user ana@example.org" in capsys.readouterr().err
    database = Database(Settings(database_url=env))
    try:
        user_id = create_staff(database, "ana@example.org", "viewer")
        assert main(["notify", "Ana@Example.org", "libraries-abroad", "--daily"]) == 0
        assert "ana@example.org gets a daily digest about libraries-abroad" in (
            capsys.readouterr().out
        )
        with database.session() as session:
            assert store.choices_of(session, user_id=user_id) == {1: "daily"}
        assert main(["notify", "ana@example.org", "libraries-abroad", "--off"]) == 0
        with database.session() as session:
            assert store.choices_of(session, user_id=user_id) == {}
        assert main(["notify", "ana@example.org", "no-such-survey", "--each"]) == 1
    finally:
        database.dispose()
