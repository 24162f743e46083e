"""Email notifications (survey.mail, survey.notifications, the mail outbox),
on each database and against a real SMTP server on 127.0.0.1 (aiosmtpd):
one email per response for who asked, the daily digest, the one-click stop,
the staff member's language, and nothing kept about an erased person."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from survey import store
from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.mail import parse_smtp_url
from survey.models import utcnow
from survey.notifications import send_due
from survey.settings import Settings
from survey.store.notifications import last_digest_time
from survey.web.writes import ResponseWriter
from tests.helpers import (
    ADMIN_EMAIL,
    VIEWER_EMAIL,
    Inbox,
    create_staff,
    csrf_token,
    free_port,
    load,
    sign_in,
)
from tests.web.test_writes import ids, run


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[Inbox, str]) -> Settings:
    return settings.model_copy(
        update={
            "smtp_url": smtp[1],
            "mail_from": "Reader survey <surveys@example.org>",
            "public_url": "https://surveys.example.org",
        }
    )


def choose(database: Database, email_address: str, mode: str, lang: str | None = None) -> None:
    with database.begin(write=True) as session:
        user = store.find_user(session, email=email_address)
        assert user is not None
        assert user.id is not None
        store.set_choice(session, user_id=user.id, survey_id=1, mode=mode)
        if lang:
            store.remember_language(session, user=user, lang=lang)


def admin_wants_each(database: Database) -> None:
    """An admin who asked for an email about each response."""
    create_staff(database, ADMIN_EMAIL, "admin")
    choose(database, ADMIN_EMAIL, "each")


def answer(database: Database, key: str, *, mail: bool = True, **answers: Any) -> int:
    survey_id, version_id = ids(database)
    stored = run(
        lambda: ResponseWriter(database, mail=mail).insert(
            survey_id=survey_id,
            survey_version_id=version_id,
            answers=answers,
            submission_key=key,
            source="https://alsc.example.org/libraries-abroad",
        )
    )
    return int(stored[0])


def outbox(database: Database) -> list[tuple[Any, ...]]:
    with database.engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                sa.text("SELECT kind, staff_user_id, response_id, status FROM mail_outbox")
            )
        ]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())


def test_smtp_addresses_are_read_as_operators_write_them() -> None:
    plain = parse_smtp_url("smtp://relay.local:25?tls=off")
    assert (plain.host, plain.port, plain.security, plain.user) == ("relay.local", 25, "off", None)
    starttls = parse_smtp_url("smtp://me%40example.org:s%3Acret@mail.example.org")
    assert (starttls.port, starttls.security) == (587, "starttls")
    assert (starttls.user, starttls.password) == ("me@example.org", "s:cret")
    assert parse_smtp_url("smtps://u:p@mail.example.org").port == 465
    for wrong in ("http://mail.example.org", "smtp://", "smtp://h?tls=maybe"):
        with pytest.raises(ValueError, match=r"smtp|host|tls"):
            parse_smtp_url(wrong)
    with pytest.raises(ValueError, match="SURVEY_SMTP_URL"):
        Settings(smtp_url="mail.example.org")


def test_an_email_per_response_for_who_asked_names_the_survey_and_links_to_it(
    database: Database,
    bundled: SurveyDefinition,
    mail_settings: Settings,
    smtp: tuple[Inbox, str],
) -> None:
    inbox, _ = smtp
    create_staff(database, ADMIN_EMAIL, "admin")
    create_staff(database, VIEWER_EMAIL, "viewer")
    choose(database, ADMIN_EMAIL, "each")
    choose(database, VIEWER_EMAIL, "daily")
    response_id = answer(database, "form:1", visits_libraries="often", lessons="Story walks")
    # Written with the response (the outbox): only the "each" person's.
    assert outbox(database) == [("response", 1, response_id, "pending")]
    # The same form sent again is the same response: no second email.
    assert answer(database, "form:1", visits_libraries="often") == response_id
    assert len(outbox(database)) == 1
    assert send_due(database, mail_settings) == 1
    [(sender, to, message)] = inbox.messages
    assert inbox.logins == [(b"mailer", b"p@ss word")]
    assert sender == "surveys@example.org"
    assert to == [ADMIN_EMAIL]
    assert message["Subject"] == "New response to “Libraries Abroad”"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    link = f"https://surveys.example.org/admin/surveys/libraries-abroad/responses/{response_id}"
    assert link in text
    assert f'href="{link}"' in html
    assert "https://alsc.example.org/libraries-abroad" in text  # the post it came from
    # No answers unless the survey asks for them.
    assert "Story walks" not in text + html
    # RFC 8058 one-click stop.
    stop = message["List-Unsubscribe"].strip("<>")
    assert stop.startswith("https://surveys.example.org/admin/notifications/stop?t=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert stop in text
    assert outbox(database)[0][3] == "delivered"
    assert send_due(database, mail_settings) == 0


def test_the_survey_can_put_the_answers_in_the_email_and_it_speaks_their_language(
    database: Database,
    bundled: SurveyDefinition,
    mail_settings: Settings,
    smtp: tuple[Inbox, str],
) -> None:
    inbox, _ = smtp
    load(database, bundled.model_copy(update={"notify_with_answers": True}))
    create_staff(database, ADMIN_EMAIL, "admin")
    choose(database, ADMIN_EMAIL, "each", lang="ar")
    answer(database, "form:1", visits_libraries="often", lessons="Story walks <b>")
    send_due(database, mail_settings)
    [(_, _, message)] = inbox.messages
    assert message["Content-Language"] == "ar"
    assert message["Subject"] != "New response to “Libraries Abroad”"
    assert "Libraries Abroad" not in message["Subject"]  # the title in Arabic too
    text, html = parts(message)
    assert 'dir="rtl"' in html
    assert "نعم، كلما استطعت" in text  # the answer's label, in Arabic
    assert "Story walks <b>" in text
    assert "Story walks &lt;b&gt;" in html  # escaped in HTML


def test_the_one_click_link_stops_that_email_and_nothing_else(
    client: Any,
    database: Database,
    mail_settings: Settings,
    smtp: tuple[Inbox, str],
) -> None:
    inbox, _ = smtp
    admin_wants_each(database)
    answer(database, "form:1", visits_libraries="often")
    send_due(database, mail_settings)
    [(_, _, message)] = inbox.messages
    stop = urlsplit(message["List-Unsubscribe"].strip("<>"))
    path = f"{stop.path}?{stop.query}"
    # Opening the link asks first (a link checker stops nothing).
    shown = client.get(path)
    assert shown.status_code == 200
    assert "Libraries Abroad" in shown.text
    assert outbox(database)[0][0] == "response"
    with database.session() as session:
        assert store.choices_of(session, user_id=1) == {1: "each"}
    # The mail program's one-click post: no sign-in, no page needed.
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "no more emails" in done.text
    with database.session() as session:
        assert store.choices_of(session, user_id=1) == {}
    answer(database, "form:2", visits_libraries="often")
    assert len(outbox(database)) == 1  # nothing new written
    # A changed token is refused with a page that says what to do.
    forged = client.post(f"{stop.path}?t=x{stop.query[2:]}")
    assert forged.status_code == 400
    assert "account page" in forged.text


def test_the_daily_digest_counts_what_is_new_once_and_says_nothing_when_nothing_is(
    database: Database,
    bundled: SurveyDefinition,
    mail_settings: Settings,
    smtp: tuple[Inbox, str],
) -> None:
    inbox, _ = smtp
    create_staff(database, ADMIN_EMAIL, "admin")
    create_staff(database, VIEWER_EMAIL, "viewer")
    choose(database, VIEWER_EMAIL, "daily", lang="fr")
    now = utcnow()
    due = last_digest_time(now, 8)
    # Two responses in the period, one after the digest time (next digest's).
    with database.engine.begin() as conn:
        for when in (due - timedelta(hours=3), due - timedelta(hours=20), due + timedelta(hours=1)):
            conn.execute(
                sa.text(
                    "INSERT INTO response (survey_id, survey_version_id, submitted_at, answers) "
                    "VALUES (1, 1, :when, :answers)"
                ),
                {"when": when, "answers": '{"visits_libraries": "often"}'},
            )
    with database.write_connection() as conn:
        assert store.queue_digests(conn, now=now, hour=8) == 1
    with database.write_connection() as conn:
        assert store.queue_digests(conn, now=now, hour=8) == 0  # one digest per period
    send_due(database, mail_settings)
    [(_, to, message)] = inbox.messages
    assert to == [VIEWER_EMAIL]
    assert message["Content-Language"] == "fr"
    text, html = parts(message)
    assert re.search(r"\b2 nouvelles réponses\b", text), text
    assert "https://surveys.example.org/admin/surveys/libraries-abroad/responses" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The next day: the one late response is counted; days later, nothing new
    # and no email.
    with database.write_connection() as conn:
        assert store.queue_digests(conn, now=now + timedelta(days=1), hour=8) == 1
    with database.write_connection() as conn:
        assert store.queue_digests(conn, now=now + timedelta(days=3), hour=8) == 0
    send_due(database, mail_settings)
    assert len(inbox.messages) == 2
    assert re.search(r"\b1 nouvelle réponse\b", parts(inbox.messages[1][2])[0])


def test_erasing_a_person_deletes_the_emails_about_their_answers(
    database: Database, bundled: SurveyDefinition, mail_settings: Settings
) -> None:
    admin_wants_each(database)
    answer(database, "form:1", visits_libraries="often", email="ana@example.org")
    assert len(outbox(database)) == 1
    with database.begin(write=True) as session:
        assert store.erase_by_email(session, email="ana@example.org")[0] == 1
    assert outbox(database) == []


def test_without_smtp_nothing_is_written_and_the_account_page_says_email_is_off(
    client: Any, database: Database
) -> None:
    admin_wants_each(database)
    answer(database, "form:1", mail=False, visits_libraries="often")
    assert outbox(database) == []
    sign_in(client, ADMIN_EMAIL)
    page = client.get("/admin/account")
    assert "Email is off on this server" in page.text
    assert '<option value="each" selected>' in page.text


def test_a_staff_member_chooses_on_their_account_page(client: Any, database: Database) -> None:
    create_staff(database, VIEWER_EMAIL, "viewer")
    sign_in(client, VIEWER_EMAIL)
    token = csrf_token(client, "/admin/account")
    saved = client.post(
        "/admin/account/notifications",
        data={"_csrf": token, "survey-1": "daily"},
        headers={"accept-language": "es"},
    )
    assert saved.status_code == 303
    with database.session() as session:
        assert store.choices_of(session, user_id=1) == {1: "daily"}
        user = store.find_user(session, email=VIEWER_EMAIL)
        assert user is not None
        assert user.language == "es"  # their emails' language
    page = client.get(saved.headers["location"])
    assert "Your email choices were saved." in page.text
    # Unknown values change nothing; "off" removes it.
    client.post("/admin/account/notifications", data={"_csrf": token, "survey-1": "hourly"})
    with database.session() as session:
        assert store.choices_of(session, user_id=1) == {1: "daily"}
    client.post("/admin/account/notifications", data={"_csrf": token, "survey-1": "off"})
    with database.session() as session:
        assert store.choices_of(session, user_id=1) == {}


def test_a_refusing_server_fails_the_email_and_an_unreachable_one_retries_it(
    database: Database,
    bundled: SurveyDefinition,
    mail_settings: Settings,
    smtp: tuple[Inbox, str],
) -> None:
    inbox, _ = smtp
    admin_wants_each(database)
    answer(database, "form:1", visits_libraries="often")
    inbox.refuse_with = "550 mailbox unavailable"
    send_due(database, mail_settings)
    assert outbox(database)[0][3] == "failed"
    answer(database, "form:2", visits_libraries="often")
    gone = mail_settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}?tls=off"})
    send_due(database, gone)
    assert outbox(database)[1][3] == "pending"  # tried again later


@pytest.mark.parametrize("scheme", ["starttls", "smtps"])
def test_the_password_only_travels_over_tls_the_server_proves(
    database: Database,
    bundled: SurveyDefinition,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    scheme: str,
) -> None:
    """smtp://…:587 upgrades with STARTTLS before logging in; smtps:// speaks
    TLS from the start; both check the server's certificate (a test CA, made
    by trustme and trusted through SSL_CERT_FILE)."""
    import ssl

    import trustme
    from aiosmtpd.controller import Controller

    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    inbox = Inbox()
    port = free_port()
    options: dict[str, Any] = (
        {"tls_context": server_context, "require_starttls": True}
        if scheme == "starttls"
        # aiosmtpd counts only STARTTLS as TLS for AUTH; this whole session is.
        else {"ssl_context": server_context, "auth_require_tls": False}
    )
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate, **options
    )
    controller.start()
    try:
        address = (
            f"smtp://mailer:p%40ss%20word@127.0.0.1:{port}"
            if scheme == "starttls"
            else f"smtps://mailer:p%40ss%20word@127.0.0.1:{port}"
        )
        mail_on = settings.model_copy(
            update={"smtp_url": address, "mail_from": "surveys@example.org"}
        )
        admin_wants_each(database)
        answer(database, "form:1", visits_libraries="often")
        # Not trusted yet: the certificate is refused and nothing is sent.
        send_due(database, mail_on)
        assert inbox.messages == []
        assert outbox(database)[0][3] == "pending"  # tried again later
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        with database.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE mail_outbox SET next_attempt_at = :now"), {"now": utcnow()}
            )
        send_due(database, mail_on)
    finally:
        controller.stop()
    assert [to for _, to, _ in inbox.messages] == [[ADMIN_EMAIL]]
    assert inbox.logins == [(b"mailer", b"p@ss word")]


def test_a_disabled_account_gets_nothing_more(
    database: Database, bundled: SurveyDefinition, mail_settings: Settings, smtp: tuple[Inbox, str]
) -> None:
    inbox, _ = smtp
    admin_wants_each(database)
    answer(database, "form:1", visits_libraries="often")
    with database.begin(write=True) as session:
        user = store.find_user(session, email=ADMIN_EMAIL)
        assert user is not None
        store.disable_user(session, user=user)
    send_due(database, mail_settings)  # written before: dropped, not sent
    answer(database, "form:2", visits_libraries="often")  # after: not even written
    assert inbox.messages == []
    assert [row[3] for row in outbox(database)] == ["delivered"]
