"""Signing in (survey.web.admin.signin) under attack: the limits count per
account and client pair and per client, atomically; a locked pair does not
lock the account out; the audit trail keeps nothing typed and one line per
refused pair and window."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from survey.db import Database
from survey.models import AuditEvent
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import (
    ADMIN_EMAIL,
    VIEWER_EMAIL,
    Server,
    create_postgres_database,
    create_staff,
    drop_postgres_database,
    sign_in,
)

WRONG = "not the password at all"


@pytest.fixture
def app_clients(
    settings: Settings, database: Database, bundled: object
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two browsers on two addresses, one app."""
    create_staff(database, ADMIN_EMAIL, "admin")
    create_staff(database, VIEWER_EMAIL, "viewer")
    app = create_app(settings)
    with TestClient(app, follow_redirects=False, client=("192.0.2.1", 1000)) as one:
        other = TestClient(app, follow_redirects=False, client=("198.51.100.7", 1000))
        yield one, other


def audit(database: Database) -> list[AuditEvent]:
    with database.session() as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))  # type: ignore[arg-type]


def test_failures_from_one_address_do_not_lock_the_owner_out(
    app_clients: tuple[TestClient, TestClient],
) -> None:
    attacker, owner = app_clients
    for _ in range(5):
        assert sign_in(attacker, ADMIN_EMAIL, WRONG).status_code == 401
    assert sign_in(attacker, ADMIN_EMAIL).status_code == 429
    # The real admin, from their own address, with the right password.
    assert sign_in(owner, ADMIN_EMAIL).status_code == 303


def test_good_sign_ins_do_not_use_up_the_budget(
    app_clients: tuple[TestClient, TestClient],
) -> None:
    office, _ = app_clients
    for _ in range(8):
        assert sign_in(office, VIEWER_EMAIL).status_code == 303
        office.cookies.clear()


def test_the_audit_keeps_nothing_typed_and_one_line_per_refused_window(
    app_clients: tuple[TestClient, TestClient], database: Database
) -> None:
    attacker, _ = app_clients
    typed = "hunter2-correct-horse@typo"  # a password typed into the email box
    for _ in range(12):
        sign_in(attacker, typed, WRONG)
    events = audit(database)
    assert [e.action for e in events] == ["sign_in_failed"] * 5 + ["sign_in_refused"]
    assert all("hunter2" not in f"{e.actor} {e.detail}" for e in events)
    assert {e.actor for e in events} == {"(no such account)"}


def test_the_audit_trail_is_purged_after_its_retention(database: Database) -> None:
    from datetime import timedelta

    from survey import store
    from survey.models import utcnow

    with database.begin(write=True) as session:
        store.audit(session, action="sign_in", actor="a@example.org", client="192.0.2.1")
        session.add(
            AuditEvent(
                at=utcnow() - timedelta(days=400),
                actor="b@example.org",
                action="sign_in",
                detail={},
            )
        )
    with database.begin(write=True) as session:
        assert store.purge_audit(session, before=utcnow() - timedelta(days=365)) == 1
    assert [e.actor for e in audit(database)] == ["a@example.org"]


def parallel_guesses(url: str, count: int) -> list[int]:
    """``count`` wrong passwords for one account from one address, at once."""
    import http.cookiejar
    import re
    import urllib.error
    import urllib.parse
    import urllib.request

    statuses: list[int] = []
    ready = threading.Barrier(count)

    def guess() -> None:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = opener.open(f"{url}/admin/login", timeout=30).read().decode()
        token = re.search(r'name="_sign_in" value="([^"]+)"', form)
        assert token
        body = urllib.parse.urlencode(
            {"email": ADMIN_EMAIL, "password": WRONG, "next": "/admin", "_sign_in": token[1]}
        ).encode()
        ready.wait()
        try:
            with opener.open(f"{url}/admin/login", data=body, timeout=60) as answer:
                statuses.append(answer.status)
        except urllib.error.HTTPError as refused:
            statuses.append(refused.code)
            refused.close()

    threads = [threading.Thread(target=guess) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_parallel_guesses_get_no_more_password_checks_than_the_limit(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from survey.db import migrate

    admin_engine = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'survey.db'}"
    else:
        url, admin_engine = create_postgres_database(request.getfixturevalue("postgres_server_url"))
    settings = Settings(database_url=url)
    migrate(settings)
    database = Database(settings)
    create_staff(database, ADMIN_EMAIL, "admin")
    server = Server(
        [str(Path(__import__("sys").executable).with_name("survey"))],
        {"SURVEY_DATABASE_URL": url, "SURVEY_SIGN_IN_FAILURE_DELAY_SECONDS": "0"},
    )
    try:
        server.wait_ready()
        statuses = parallel_guesses(server.url, 40)
    finally:
        server.stop()
        database.dispose()
        if admin_engine is not None:
            drop_postgres_database(admin_engine, url)
    assert sorted(statuses) == [401] * 5 + [429] * 35


def test_uncounted_sql_never_goes_below_zero(database: Database) -> None:
    from datetime import UTC, datetime

    from survey import store

    start = datetime(2026, 12, 6, tzinfo=UTC)
    with database.begin(write=True) as session:
        conn = session.connection()
        store.uncount_hit(conn, client_key="k", window_start=start)  # nothing to take back
        assert store.count_hit(conn, client_key="k", window_start=start) == 1
        store.uncount_hit(conn, client_key="k", window_start=start)
        store.uncount_hit(conn, client_key="k", window_start=start)
        hits = conn.execute(sa.text("SELECT hits FROM rate_limit_hit")).scalar_one()
    assert hits == 0
