"""A librarian sets up notifications in Chromium, as they would: a chat
webhook added on the survey's Webhooks tab and tested, email about each
response chosen on their account page; then a reader answers, and both
arrive (served by `survey serve`, delivering inline)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import STAFF_PASSWORD, Inbox, Receiver, Server, wait_for

SURVEY = str(Path(sys.executable).with_name("survey"))


@pytest.fixture
def notifying_server(tmp_path: Path, smtp: tuple[Inbox, str]) -> Iterator[Server]:
    env = {
        "SURVEY_DATABASE_URL": f"sqlite:///{tmp_path / 'survey.db'}",
        "SURVEY_SMTP_URL": smtp[1],
        "SURVEY_MAIL_FROM": "surveys@example.org",
        "SURVEY_WEBHOOK_ALLOW_HTTP": "true",
        "SURVEY_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    server = Server([SURVEY], env)
    server.wait_ready()
    subprocess.run(
        [SURVEY, "user", "create", "librarian@example.org", "--role", "admin", "--password-stdin"],
        env={"SURVEY_DATABASE_URL": env["SURVEY_DATABASE_URL"]},
        input=(STAFF_PASSWORD + "\n").encode(),
        capture_output=True,
        check=True,
    )
    yield server
    server.stop()


def test_a_librarian_sets_up_a_chat_webhook_and_email_then_a_reader_answers(  # type: ignore[no-untyped-def]
    page, chromium_browser, notifying_server: Server, receiver: Receiver, smtp: tuple[Inbox, str]
) -> None:
    server, (inbox, _) = notifying_server, smtp
    page.goto(f"{server.url}/admin/login")
    page.get_by_label("Email address").fill("librarian@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/admin")
    # From the survey's page to its Webhooks tab, by the links a person sees.
    page.goto(f"{server.url}/admin/surveys/libraries-abroad")
    page.get_by_role("link", name="Webhooks", exact=True).click()
    page.get_by_label("The receiver's address").fill(receiver.url)
    page.get_by_label("Chat message (Slack and alike)").check()
    page.get_by_role("button", name="Add the webhook").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().startswith("The webhook was added.")
    page.get_by_role("button", name="Send a test event").click()
    page.wait_for_load_state()
    first_row = page.locator("table tbody tr").first
    assert "Test event" in first_row.inner_text()
    assert "Delivered" in first_row.inner_text()
    [(_, test_body)] = receiver.requests
    assert json.loads(test_body)["text"].startswith("Test event from “Libraries Abroad”")
    # Email about each response, chosen on their own page.
    page.get_by_role("link", name="Webhooks of “Libraries Abroad”").click()
    page.get_by_role("link", name="Your email choices").click()
    page.get_by_label("Libraries Abroad").select_option("each")
    page.get_by_role("button", name="Save email choices").click()
    page.wait_for_load_state()
    assert page.get_by_text("Your email choices were saved.").is_visible()
    # A reader answers, in a browser of their own.
    reader = chromium_browser.new_context()
    try:
        form = reader.new_page()
        form.goto(f"{server.url}/s/libraries-abroad")
        form.get_by_label("Yes, whenever I can").check()
        form.get_by_label("What are you learning?").fill("Story walks")
        form.get_by_role("button", name="Send answers").click()
        form.wait_for_url("**/thanks")
    finally:
        reader.close()
    wait_for(lambda: len(receiver.requests) == 2 and inbox.messages)
    text = json.loads(receiver.requests[1][1])["text"]
    assert text.startswith("New response to “Libraries Abroad”")
    assert "• What are you learning?: Story walks" in text
    [(_, to, message)] = inbox.messages
    assert to == ["librarian@example.org"]
    assert message["Subject"] == "New response to “Libraries Abroad”"
    # The webhook's page lists the response's delivery too.
    page.goto(f"{server.url}/admin/webhooks/1")
    assert "Response 1" in page.locator("table tbody tr").first.inner_text()
