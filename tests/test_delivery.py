"""The outbox and webhook delivery (survey.delivery, store.webhooks), on each
database: a delivery is written with its response, signed as Standard
Webhooks asks, retried with the same id, refused where it must be, and gone
when its response is erased."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from survey import store
from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.delivery import deliver_due
from survey.models import utcnow
from survey.settings import Settings
from survey.web.writes import ResponseWriter
from tests.helpers import Receiver
from tests.web.test_writes import ids, run


@pytest.fixture
def open_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_http": True, "webhook_allow_private": True})


def hook(database: Database, url: str, format: str = "standard") -> str:
    with database.begin(write=True) as session:
        survey = store.get_survey(session, slug="libraries-abroad")
        assert survey is not None
        assert survey.id is not None
        return store.add_webhook(session, survey_id=survey.id, url=url, format=format).secret


def answer(database: Database, key: str = "form:abc", **answers: Any) -> int:
    survey_id, version_id = ids(database)
    stored = run(
        lambda: ResponseWriter(database).insert(
            survey_id=survey_id,
            survey_version_id=version_id,
            answers=answers,
            submission_key=key,
            language="fr",
        )
    )
    return int(stored[0])


def pending_again(database: Database) -> None:
    """A delivery back to pending and due now (to try it under other settings)."""
    with database.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE webhook_delivery SET status = 'pending', attempts = 0, "
                "next_attempt_at = :now"
            ),
            {"now": utcnow()},
        )


def deliveries(database: Database) -> list[tuple[Any, ...]]:
    with database.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text("SELECT status, attempts, event_id FROM webhook_delivery ORDER BY id")
            )
        ]


def test_a_response_and_its_delivery_are_stored_together_and_delivered_signed(
    database: Database, bundled: SurveyDefinition, open_settings: Settings, receiver: Receiver
) -> None:
    secret = hook(database, receiver.url)
    response_id = answer(database, visits_libraries="often")
    # In the database before any delivery pass: a server killed now still delivers.
    [(status, attempts, event_id)] = deliveries(database)
    assert (status, attempts) == ("pending", 0)
    # The same form sent again enqueues nothing new.
    assert answer(database, visits_libraries="often") == response_id
    assert len(deliveries(database)) == 1

    assert deliver_due(database, open_settings) == 1
    [(headers, body)] = receiver.requests
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == event_id
    # Standard Webhooks: v1,base64(HMAC-SHA256(key, "id.timestamp.body")).
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    payload = json.loads(body)
    assert payload["type"] == "response.created"
    assert payload["data"]["survey"] == "libraries-abroad"
    assert payload["data"]["response_id"] == response_id
    assert payload["data"]["answers"] == {"visits_libraries": "often"}
    assert payload["data"]["language"] == "fr"
    assert deliveries(database)[0][:2] == ("delivered", 1)
    assert deliver_due(database, open_settings) == 0  # nothing left


def test_a_failing_receiver_is_retried_later_with_the_same_id(
    database: Database, bundled: SurveyDefinition, open_settings: Settings, receiver: Receiver
) -> None:
    hook(database, receiver.url)
    answer(database, visits_libraries="often")
    receiver.statuses = [503]
    deliver_due(database, open_settings)
    [(status, attempts, _)] = deliveries(database)
    assert (status, attempts) == ("pending", 1)
    assert deliver_due(database, open_settings) == 0  # not due yet (Retry-After: 120)
    with database.engine.begin() as conn:
        due = conn.execute(sa.text("SELECT next_attempt_at FROM webhook_delivery")).scalar_one()
        conn.execute(
            sa.text("UPDATE webhook_delivery SET next_attempt_at = :now"), {"now": utcnow()}
        )
    assert deliver_due(database, open_settings) == 1
    first, second = receiver.requests
    assert first[0]["webhook-id"] == second[0]["webhook-id"]
    assert first[1] == second[1]  # the same body on every attempt
    assert deliveries(database)[0][:2] == ("delivered", 2)
    assert due is not None


def test_a_refusal_ends_the_delivery_and_internal_addresses_are_refused(
    database: Database,
    bundled: SurveyDefinition,
    settings: Settings,
    open_settings: Settings,
    receiver: Receiver,
) -> None:
    hook(database, receiver.url)
    answer(database, visits_libraries="often")
    # Without the settings: plain http and 127.0.0.1 are refused, never retried.
    assert deliver_due(database, settings) == 1
    assert deliveries(database)[0][:2] == ("failed", 1)
    assert receiver.requests == []
    pending_again(database)
    strict_https = settings.model_copy(update={"webhook_allow_http": True})
    deliver_due(database, strict_https)
    with database.engine.connect() as conn:
        result = conn.execute(sa.text("SELECT last_result FROM webhook_delivery")).scalar_one()
    assert "local or private address" in result
    assert "SURVEY_WEBHOOK_ALLOW_PRIVATE" in result
    # A 400 from the receiver: failed, no retry.
    pending_again(database)
    receiver.statuses = [400]
    deliver_due(database, open_settings)
    assert deliveries(database)[0][:2] == ("failed", 1)


def test_a_claim_keeps_other_workers_off_until_it_expires(
    database: Database, bundled: SurveyDefinition
) -> None:
    from datetime import timedelta

    hook(database, "https://hooks.example.org/x")
    answer(database, visits_libraries="often")
    now = utcnow()
    with database.write_connection() as conn:
        first = store.claim_due(conn, now=now, lease=timedelta(seconds=60))
    with database.write_connection() as conn:
        second = store.claim_due(conn, now=now, lease=timedelta(seconds=60))
    with database.write_connection() as conn:
        later = store.claim_due(conn, now=now + timedelta(seconds=61), lease=timedelta(seconds=60))
    assert [len(first), len(second), len(later)] == [1, 0, 1]


def test_erasing_a_response_deletes_its_deliveries(
    database: Database, bundled: SurveyDefinition
) -> None:
    hook(database, "https://hooks.example.org/x")
    answer(database, visits_libraries="often", email="ana@example.org")
    assert len(deliveries(database)) == 1
    with database.begin(write=True) as session:
        assert store.erase_by_email(session, email="ana@example.org")[0] == 1
    assert deliveries(database) == []


def test_a_server_killed_after_acknowledging_still_delivers_through_a_worker(
    tmp_path: Any, receiver: Receiver
) -> None:
    """The outbox across processes: `survey serve` (delivery off) stores a
    response and is killed with SIGKILL; `survey worker` delivers its event."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.helpers import Server, post_json

    survey = str(Path(sys.executable).with_name("survey"))
    env = {
        "SURVEY_DATABASE_URL": f"sqlite:///{tmp_path / 'survey.db'}",
        "SURVEY_DELIVERY": "off",
        "SURVEY_WEBHOOK_ALLOW_HTTP": "true",
        "SURVEY_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    server = Server([survey], env)
    server.wait_ready()
    added = subprocess.run(
        [survey, "webhook", "add", "libraries-abroad", receiver.url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    status, _ = post_json(
        f"{server.url}/api/surveys/libraries-abroad/responses",
        {"answers": {"visits_libraries": "often"}},
    )
    assert status == 201
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    assert receiver.requests == []  # nothing was delivered by the server
    worker = subprocess.Popen(
        [survey, "worker"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    listed = ""
    try:
        # Until the worker has posted the event and recorded it as delivered.
        deadline = time.monotonic() + 30
        while "1 delivered" not in listed and time.monotonic() < deadline:
            time.sleep(0.2)
            if receiver.requests:
                listed = subprocess.run(
                    [survey, "webhook", "list"],
                    env={**os.environ, **env},
                    capture_output=True,
                    text=True,
                ).stdout
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert "1 delivered" in listed
    [(headers, body)] = receiver.requests
    assert json.loads(body)["data"]["answers"] == {"visits_libraries": "often"}
    # Signed with the secret the command printed once.
    from survey.delivery import sign

    timestamp = int(headers["webhook-timestamp"])
    assert headers["webhook-signature"] == sign(secret, headers["webhook-id"], timestamp, body)
    removed = subprocess.run(
        [survey, "webhook", "remove", "1"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert removed.returncode == 0
    assert (
        "no webhooks"
        in subprocess.run(
            [survey, "webhook", "list"], env={**os.environ, **env}, capture_output=True, text=True
        ).stdout
    )


def test_restoring_spam_enqueues_its_delivery_too(
    client: Any, database: Database, bundled: SurveyDefinition
) -> None:
    from tests.helpers import ADMIN_EMAIL, create_staff, csrf_token, sign_in

    hook(database, "https://hooks.example.org/x")
    with database.write_connection() as conn:
        store.insert_spam(
            conn,
            survey_id=1,
            reason="too fast",
            fields={"visits_libraries": ["often"]},
            source=None,
        )
    create_staff(database, ADMIN_EMAIL, "admin")
    sign_in(client, ADMIN_EMAIL)
    token = csrf_token(client, "/admin/surveys/libraries-abroad/spam")
    restored = client.post("/admin/surveys/libraries-abroad/spam/1/restore", data={"_csrf": token})
    assert restored.status_code == 303
    assert [row[:2] for row in deliveries(database)] == [("pending", 0)]


def test_the_slack_format_is_a_text_with_a_link_and_the_first_answers(
    database: Database, bundled: SurveyDefinition, open_settings: Settings, receiver: Receiver
) -> None:
    hook(database, receiver.url, format="slack")
    response_id = answer(database, visits_libraries="often", lessons="Story walks")
    with_link = open_settings.model_copy(update={"public_url": "https://surveys.example.org"})
    deliver_due(database, with_link)
    [(headers, body)] = receiver.requests
    assert "webhook-signature" not in headers
    text = json.loads(body)["text"]
    first, link, *answers = text.splitlines()
    assert first == f"New response to “Libraries Abroad” (#{response_id})"
    assert link == (
        f"https://surveys.example.org/admin/surveys/libraries-abroad/responses/{response_id}"
    )
    # By question, in the survey's order, as a person reads them.
    assert answers == [
        "• Are you visiting other libraries when you go on vacation?: Yes, whenever I can",
        "• What are you learning?: Story walks",
    ]


def test_the_standard_webhooks_library_verifies_what_is_sent(
    database: Database, bundled: SurveyDefinition, open_settings: Settings, receiver: Receiver
) -> None:
    from standardwebhooks.webhooks import Webhook as Verifier
    from standardwebhooks.webhooks import WebhookVerificationError

    secret = hook(database, receiver.url)
    response_id = answer(database, visits_libraries="often")
    deliver_due(database, open_settings)
    [(headers, body)] = receiver.requests
    verified = Verifier(secret).verify(body, headers)
    assert verified["data"]["response_id"] == response_id
    # A changed body or another secret does not verify.
    with pytest.raises(WebhookVerificationError):
        Verifier(secret).verify(body.replace(b"often", b"never"), headers)
    with pytest.raises(WebhookVerificationError):
        Verifier(store.webhooks.new_secret()).verify(body, headers)


def attempt_rows(database: Database) -> list[tuple[Any, ...]]:
    with database.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT outcome, status_code, error, duration_ms, answer "
                    "FROM webhook_attempt ORDER BY id"
                )
            )
        ]


def due_now(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE webhook_delivery SET next_attempt_at = :now"), {"now": utcnow()}
        )


def test_500_twice_then_200_makes_three_attempts_with_one_id_each_recorded(
    database: Database, bundled: SurveyDefinition, open_settings: Settings, receiver: Receiver
) -> None:
    hook(database, receiver.url)
    answer(database, visits_libraries="often")
    receiver.statuses = [500, 500, 200]
    for _ in range(3):
        assert deliver_due(database, open_settings) == 1
        due_now(database)
    assert len({headers["webhook-id"] for headers, _ in receiver.requests}) == 1
    assert len({body for _, body in receiver.requests}) == 1
    assert len(receiver.requests) == 3
    assert deliveries(database)[0][:2] == ("delivered", 3)
    rows = attempt_rows(database)
    assert [(outcome, code) for outcome, code, *_ in rows] == [
        ("retry", 500),
        ("retry", 500),
        ("delivered", 200),
    ]
    assert all(duration is not None and duration >= 0 for *_, duration, _ in rows)
    assert all(answer == "thanks" for *_, answer in rows)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://localhost:9/hook",  # a name that resolves to loopback
        "http://10.0.0.7/hook",  # private
        "http://[::1]:9/hook",
    ],
)
def test_internal_addresses_are_refused_and_shown_as_refused(
    database: Database, bundled: SurveyDefinition, settings: Settings, url: str
) -> None:
    hook(database, url)
    answer(database, visits_libraries="often")
    http_only = settings.model_copy(update={"webhook_allow_http": True})
    deliver_due(database, http_only)
    assert deliveries(database)[0][:2] == ("failed", 1)
    [(outcome, code, error, _, _)] = attempt_rows(database)
    assert (outcome, code) == ("refused", None)
    assert "local or private address" in error


def test_a_redirect_is_not_followed(
    database: Database, bundled: SurveyDefinition, open_settings: Settings
) -> None:
    """A receiver that answers 302 to the metadata address gets one post and
    nothing more: the redirect is an answer, and not a 2xx (failed)."""
    seen: list[str] = []

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.path)
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook(database, f"http://127.0.0.1:{server.server_address[1]}/hook")
        answer(database, visits_libraries="often")
        deliver_due(database, open_settings)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["/hook"]
    assert deliveries(database)[0][:2] == ("failed", 1)
    assert attempt_rows(database)[0][:2] == ("failed", 302)


def test_a_webhook_failing_for_3_days_pauses_itself_and_tells_the_admins(
    database: Database, bundled: SurveyDefinition, open_settings: Settings, receiver: Receiver
) -> None:
    from datetime import timedelta

    from tests.helpers import ADMIN_EMAIL, VIEWER_EMAIL, create_staff

    create_staff(database, ADMIN_EMAIL, "admin")
    create_staff(database, VIEWER_EMAIL, "viewer")
    hook(database, receiver.url)
    answer(database, visits_libraries="often")
    receiver.statuses = [500]
    deliver_due(database, open_settings)
    with database.engine.connect() as conn:
        since = conn.execute(sa.text("SELECT failing_since FROM webhook")).scalar_one()
    assert since is not None  # the streak started; not paused yet
    # Three days later, still failing: it pauses itself.
    with database.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE webhook SET failing_since = :then"),
            {"then": utcnow() - timedelta(days=3, minutes=1)},
        )
    due_now(database)
    receiver.statuses = [500]
    mail_on = open_settings.model_copy(
        update={"smtp_url": "smtp://127.0.0.1:9?tls=off", "mail_from": "s@example.org"}
    )
    deliver_due(database, mail_on)
    with database.engine.connect() as conn:
        paused, reason = conn.execute(sa.text("SELECT paused_at, paused_reason FROM webhook")).one()
        told = conn.execute(
            sa.text(
                "SELECT u.email FROM mail_outbox m JOIN staff_user u ON u.id = m.staff_user_id "
                "WHERE m.kind = 'paused'"
            )
        ).all()
    assert paused is not None
    assert reason == "failing"
    assert [row[0] for row in told] == [ADMIN_EMAIL]  # admins only
    # Paused: new events are written and wait; nothing is posted.
    answer(database, "form:second", visits_libraries="sometimes")
    due_now(database)
    asked = len(receiver.requests)
    assert deliver_due(database, open_settings) == 0
    assert len(receiver.requests) == asked
    # Resumed: what waited is delivered, the streak is over.
    with database.begin(write=True) as session:
        webhook, _ = store.get_webhook(session, webhook_id=1) or (None, None)
        assert webhook is not None
        store.set_paused(session, webhook=webhook, paused=False)
    assert deliver_due(database, open_settings) == 2
    assert [row[0] for row in deliveries(database)] == ["delivered", "delivered"]
    with database.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT failing_since FROM webhook")).scalar_one() is None


def test_an_address_stored_before_the_checks_fails_alone(
    database: Database, bundled: SurveyDefinition, open_settings: Settings, receiver: Receiver
) -> None:
    """An address the checks now refuse (a port past 65535, written by an
    older release or by hand) fails its own delivery; the others go out."""
    hook(database, "https://hooks.example.org:99999/x")
    hook(database, receiver.url)
    answer(database, visits_libraries="often")
    assert deliver_due(database, open_settings) == 2
    assert sorted(row[:2] for row in deliveries(database)) == [("delivered", 1), ("failed", 1)]
    [(outcome, _, error, _, _)] = [row for row in attempt_rows(database) if row[0] != "delivered"]
    assert outcome == "failed"
    assert "not a usable address" in error
    assert len(receiver.requests) == 1
