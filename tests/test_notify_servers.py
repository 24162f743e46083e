"""Notifications through real `survey serve` processes, as operators run
them: a form answer becomes a signed webhook the Standard Webhooks library
verifies and an email a real SMTP server receives (SQLite and PostgreSQL);
two servers on one PostgreSQL deliver every event and email exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from tests.helpers import (
    Inbox,
    Receiver,
    Server,
    create_postgres_database,
    drop_postgres_database,
    post_json,
    wait_for,
)

SURVEY = str(Path(sys.executable).with_name("survey"))
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def database_address(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'survey.db'}"
        return
    url, admin = create_postgres_database(request.getfixturevalue("postgres_server_url"))
    try:
        yield url
    finally:
        drop_postgres_database(admin, url)


def environment(database: str, smtp_url: str) -> dict[str, str]:
    return {
        "SURVEY_DATABASE_URL": database,
        "SURVEY_SMTP_URL": smtp_url,
        "SURVEY_MAIL_FROM": "surveys@example.org",
        "SURVEY_PUBLIC_URL": "https://surveys.example.org",
        "SURVEY_WEBHOOK_ALLOW_HTTP": "true",
        "SURVEY_WEBHOOK_ALLOW_PRIVATE": "true",
    }


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [SURVEY, *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def answer_the_form(server: Server) -> None:
    """GET the form and send it back as a browser does."""
    with urllib.request.urlopen(f"{server.url}/s/libraries-abroad", timeout=30) as page:
        html = page.read().decode()
        cookie = page.headers.get("set-cookie", "")
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    fields |= {"visits_libraries": "often", "lessons": "Story walks"}
    request = urllib.request.Request(
        f"{server.url}/s/libraries-abroad",
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Origin": "https://surveys.example.org", "Cookie": cookie.split(";")[0]},
    )
    with urllib.request.urlopen(request, timeout=30) as thanks:
        assert thanks.status == 200
        assert "Thank you" in thanks.read().decode()


def test_a_form_answer_becomes_a_verified_webhook_and_an_email(
    database_address: str,
    smtp: tuple[Inbox, str],
    receiver: Receiver,
) -> None:
    inbox, smtp_url = smtp
    env = environment(database_address, smtp_url)
    server = Server([SURVEY], env)
    try:
        server.wait_ready()
        cli(
            env,
            "user",
            "create",
            "ana@example.org",
            "--role",
            "admin",
            "--password-stdin",
            stdin="a long enough password\n",
        )
        said = cli(env, "notify", "ana@example.org", "libraries-abroad", "--each")
        assert (
            said.strip() == "ana@example.org gets an email for each response about libraries-abroad"
        )
        secret = cli(env, "webhook", "add", "libraries-abroad", receiver.url).splitlines()[-1]
        answer_the_form(server)
        wait_for(lambda: receiver.requests and inbox.messages)
    finally:
        server.stop()
    [(headers, body)] = receiver.requests
    event = Verifier(secret).verify(body, headers)
    assert event["type"] == "response.created"
    assert event["data"]["answers"]["lessons"] == "Story walks"
    [(_, to, message)] = inbox.messages
    assert to == ["ana@example.org"]
    assert message["Subject"] == "New response to “Libraries Abroad”"
    text = message.get_body(("plain",))
    assert text is not None
    response_id = event["data"]["response_id"]
    assert f"/admin/surveys/libraries-abroad/responses/{response_id}" in str(text.get_content())


def test_two_servers_on_one_postgresql_deliver_each_event_once(
    postgres_server_url: str,
    smtp: tuple[Inbox, str],
    receiver: Receiver,
) -> None:
    inbox, smtp_url = smtp
    url, admin = create_postgres_database(postgres_server_url)
    env = environment(url, smtp_url)
    first = Server([SURVEY], env)
    try:
        first.wait_ready()
        second = Server([SURVEY], env)
        try:
            second.wait_ready()
            cli(
                env,
                "user",
                "create",
                "ana@example.org",
                "--password-stdin",
                stdin="a long enough password\n",
            )
            cli(env, "notify", "ana@example.org", "libraries-abroad", "--each")
            cli(env, "webhook", "add", "libraries-abroad", receiver.url)
            total = 60
            statuses: list[int] = []

            def send(server: Server, count: int) -> None:
                for _ in range(count):
                    status, _ = post_json(
                        f"{server.url}/api/surveys/libraries-abroad/responses",
                        {"answers": {"visits_libraries": "often"}},
                    )
                    statuses.append(status)

            threads = [
                threading.Thread(target=send, args=(server, total // 4))
                for server in (first, second, first, second)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert statuses == [201] * total
            wait_for(lambda: len(receiver.requests) >= total and len(inbox.messages) >= total, 60)
            time.sleep(2)  # a second delivery of anything would show by now
        finally:
            second.stop()
    finally:
        first.stop()
        drop_postgres_database(admin, url)
    ids = [headers["webhook-id"] for headers, _ in receiver.requests]
    assert len(ids) == total
    assert len(set(ids)) == total
    links = [str(m.get_body(("plain",)).get_content()) for _, _, m in inbox.messages]  # type: ignore[union-attr]
    response_links = {re.search(r"/responses/(\d+)", text).group(1) for text in links}  # type: ignore[union-attr]
    assert len(inbox.messages) == total
    assert len(response_links) == total
