"""Passwords (survey.web.admin.account): changing one's own, an admin setting
a new one, the strength rule, and sessions that end when they should."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from survey.accounts import password_problem
from survey.db import Database
from survey.models import StaffSession, utcnow
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import (
    ADMIN_EMAIL,
    STAFF_PASSWORD,
    VIEWER_EMAIL,
    create_staff,
    csrf_token,
    sign_in,
)

NEW = "marmalade orbit lantern quietly"


@pytest.fixture
def staff_ids(database: Database) -> dict[str, int]:
    return {
        "admin": create_staff(database, ADMIN_EMAIL, "admin"),
        "viewer": create_staff(database, VIEWER_EMAIL, "viewer"),
    }


@pytest.mark.parametrize(
    "password", ["Password1234", "qwertyuiop12", "iloveyou1234", "librarian@example.org1"]
)
def test_common_and_guessable_passwords_are_refused(password: str) -> None:
    problem = password_problem(password, email="librarian@example.org")
    assert problem is not None
    assert "common or easy to guess" in problem


def test_a_staff_member_changes_their_password_and_other_sessions_end(
    settings: Settings, staff_ids: dict[str, int], bundled: object
) -> None:
    app = create_app(settings)
    with TestClient(app, follow_redirects=False) as here:
        elsewhere = TestClient(app, follow_redirects=False)
        assert sign_in(elsewhere, VIEWER_EMAIL).status_code == 303
        assert sign_in(here, VIEWER_EMAIL).status_code == 303
        token = csrf_token(here, "/admin/account")
        wrong = here.post(
            "/admin/account/password", data={"_csrf": token, "current": "nope", "new": NEW}
        )
        assert wrong.status_code == 422
        assert "Enter your current password" in wrong.text
        weak = here.post(
            "/admin/account/password",
            data={"_csrf": token, "current": STAFF_PASSWORD, "new": "Password1234"},
        )
        assert weak.status_code == 422
        assert "common or easy to guess" in weak.text
        changed = here.post(
            "/admin/account/password",
            data={"_csrf": token, "current": STAFF_PASSWORD, "new": NEW},
        )
        assert changed.status_code == 303
        shown = here.get(changed.headers["location"])
        assert "Your password was changed" in shown.text
        assert here.get("/admin").status_code == 200  # this session stays
        assert elsewhere.get("/admin").status_code == 303  # the other one ended
        here.cookies.clear()
        assert sign_in(here, VIEWER_EMAIL).status_code == 401
        assert sign_in(here, VIEWER_EMAIL, NEW).status_code == 303


def test_an_admin_sets_a_new_password_for_someone(
    client: TestClient, staff_ids: dict[str, int], database: Database
) -> None:
    assert sign_in(client, ADMIN_EMAIL).status_code == 303
    page = f"/admin/users/{staff_ids['viewer']}/password"
    assert VIEWER_EMAIL in client.get(page).text
    token = csrf_token(client, page)
    assert client.post(page, data={"_csrf": token, "password": "short"}).status_code == 422
    done = client.post(page, data={"_csrf": token, "password": NEW})
    assert done.status_code == 303
    assert "has a new password" in client.get(done.headers["location"]).text
    client.cookies.clear()
    assert sign_in(client, VIEWER_EMAIL, NEW).status_code == 303
    with database.session() as session:
        actions = session.execute(sa.text("SELECT action FROM audit_event")).scalars().all()
    assert "password_reset" in actions


def test_a_session_idle_too_long_has_ended(
    client: TestClient, staff_ids: dict[str, int], database: Database
) -> None:
    assert sign_in(client, VIEWER_EMAIL).status_code == 303
    assert client.get("/admin").status_code == 200
    with database.begin(write=True) as session:
        session.execute(
            sa.update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=61))
        )
    assert client.get("/admin").status_code == 303
