"""`survey serve` as operators run it: real processes, real sockets."""

from __future__ import annotations

import csv
import io
import socket
import sys
import threading
from pathlib import Path

import pytest

from tests.helpers import Server, post_json

pytestmark = pytest.mark.slow
SURVEY = [str(Path(sys.executable).with_name("survey"))]


class TwoWorkers(Server):
    extra_args = ("--workers", "2")


@pytest.mark.parametrize(
    ("server_class", "clients", "submissions"),
    [
        # The contract: 2 workers, 20 clients, 500 submissions.
        (TwoWorkers, 20, 500),
        # More clients than one worker has threads (40) or pooled connections
        # (20): a request must never hold one connection or lock while it waits
        # for another, or the server stalls.
        (Server, 64, 640),
    ],
    ids=["2-workers-20-clients", "1-worker-64-clients"],
)
def test_every_concurrent_submission_is_stored_exactly_once(
    database_url: str, server_class: type[Server], clients: int, submissions: int
) -> None:
    server = server_class(SURVEY, {"SURVEY_DATABASE_URL": database_url})
    try:
        server.wait_ready()
        url = f"{server.url}/api/surveys/libraries-abroad/responses"
        acknowledged: list[int] = []
        failures: list[str] = []
        lock = threading.Lock()

        def client(number: int) -> None:
            for i in range(number, submissions, clients):
                # Every fifth client also sends a bad submission: it must be refused
                # without disturbing the good ones around it.
                if number % 5 == 0:
                    status, _ = post_json(url, {"answers": {"visits_libraries": "never"}})
                    if status != 422:
                        failures.append(f"bad submission got {status}")
                status, body = post_json(
                    url,
                    {"answers": {"visits_libraries": "often", "lessons": f"client {number} #{i}"}},
                )
                with lock:
                    if status == 201:
                        acknowledged.append(int(str(body["id"])))
                    else:
                        failures.append(f"{status}: {body}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    assert failures == []
    assert len(acknowledged) == submissions

    import subprocess

    exported = subprocess.run(
        [*SURVEY, "export", "libraries-abroad"],
        env={"SURVEY_DATABASE_URL": database_url, "PATH": ""},
        capture_output=True,
        check=True,
    ).stdout.decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == submissions
    assert sorted(int(r["response_id"]) for r in rows) == sorted(acknowledged)
    assert {r["lessons"] for r in rows} == {
        f"client {i % clients} #{i}" for i in range(submissions)
    }


def test_oversized_headers_and_too_many_fields_are_refused_and_the_server_stays_up(
    tmp_path: Path,
) -> None:
    import socket
    import urllib.parse

    server = Server(SURVEY, {"SURVEY_DATABASE_URL": f"sqlite:///{tmp_path / 'survey.db'}"})
    try:
        server.wait_ready()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(
                b"GET /s/libraries-abroad HTTP/1.1\r\nHost: x\r\nX-Big: "
                + b"a" * 200_000
                + b"\r\n\r\n"
            )
            answer = sock.recv(200)
        # httptools takes any size; the app refuses it before doing any work.
        assert answer.startswith(b"HTTP/1.1 431"), answer
        fields = urllib.parse.urlencode([(f"f{n}", "x") for n in range(5000)]).encode()
        request = urllib.request.Request(f"{server.url}/s/libraries-abroad", data=fields)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code in (400, 413)
        refused.value.close()  # an HTTPError holds the connection open
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as health:
            assert health.status == 200
    finally:
        server.stop()


def _keeps_sending(sock: socket.socket, *, seconds: float) -> bool:
    """Send header lines, never the blank line that ends a request head, until
    the server hangs up (False) or the time is over (True)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sock.sendall(b"X-Slow: 1\r\n")
        except (BrokenPipeError, ConnectionResetError):
            return False
        time.sleep(0.1)
    return True


def test_idle_and_trickling_connections_are_closed_and_others_still_served(
    tmp_path: Path,
) -> None:
    """300 sockets that send nothing (or a request head a byte at a time) once
    took a server off the air; now each is closed after the header timeout,
    quietly, and readers are served meanwhile."""
    import socket
    import time
    import urllib.request

    server = Server(
        SURVEY,
        {
            "SURVEY_DATABASE_URL": f"sqlite:///{tmp_path / 'survey.db'}",
            "SURVEY_HEADER_TIMEOUT_SECONDS": "1",
        },
    )
    idle: list[socket.socket] = []
    try:
        server.wait_ready()
        logged = server.output().count("\n")  # start-up and migrations
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(300)]
        trickle = socket.create_connection(("127.0.0.1", server.port))
        trickle.sendall(b"GET /healthz HTTP/1.1\r\n")
        with urllib.request.urlopen(f"{server.url}/s/libraries-abroad", timeout=5) as page:
            assert page.status == 200
        started = time.monotonic()
        assert not _keeps_sending(trickle, seconds=10)  # the server hung up on it
        assert time.monotonic() - started < 4
        trickle.close()
        for sock in idle:
            sock.settimeout(5)
            try:
                closed = sock.recv(1) == b""
            except ConnectionResetError:
                closed = True
            assert closed, "the server kept an idle connection open"
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as health:
            assert health.status == 200
        output = server.output()
        # Quietly: a few access-log lines, not one per socket.
        assert output.count("\n") - logged < 10, output[-2000:]
    finally:
        for sock in idle:
            sock.close()
        server.stop()


def test_a_survey_changed_in_the_workspace_is_not_reverted_by_its_file_at_start(
    tmp_path: Path,
) -> None:
    import json
    import subprocess
    import urllib.request

    import sqlalchemy as sa

    folder = tmp_path / "surveys"
    folder.mkdir()
    file = folder / "club.yaml"
    text = "slug: club\ntitle: {title}\nquestions:\n  - {{key: q, type: yes_no, label: Coming}}\n"
    file.write_text(text.format(title="Book club"), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    env = {"SURVEY_DATABASE_URL": url, "SURVEY_DEFINITIONS_DIR": str(folder)}

    def title_served() -> str:
        server = Server(SURVEY, env)
        try:
            server.wait_ready()
            with urllib.request.urlopen(f"{server.url}/api/surveys/club") as answer:
                return str(json.loads(answer.read())["title"])
        finally:
            server.stop()

    assert title_served() == "Book club"
    # An admin publishes a change in the workspace (what the builder's publish does).
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE survey SET edited_in_browser_at = '2026-12-06 12:00:00', "
            "definition = json_set(definition, '$.title', 'Book club 2027')"
        )
    engine.dispose()
    file.write_text(text.format(title="Old file title"), encoding="utf-8")
    server = Server(SURVEY, env)
    try:
        server.wait_ready()
        with urllib.request.urlopen(f"{server.url}/api/surveys/club") as answer:
            assert json.loads(answer.read())["title"] == "Book club 2027"
        assert "club: changed in the staff workspace on 2026-12-06 12:00 UTC" in server.output()
    finally:
        server.stop()
    # `survey load FILE` is explicit: the file replaces it, and counts at start again.
    loaded = subprocess.run(
        [*SURVEY, "load", str(file)], env={**env}, capture_output=True, text=True, check=True
    )
    assert "club: updated (version 1)" in loaded.stdout
    assert "this file replaces it" in loaded.stderr
    assert title_served() == "Old file title"
