"""API tokens (survey.web.api_tokens and the Tokens page): an owner, a survey
scope, an expiry, the last use, and an audit line for every export."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from survey import store
from survey.db import Database
from survey.models import ApiToken, utcnow
from tests.helpers import ADMIN_EMAIL, create_staff, csrf_token, definition_from, load, sign_in

EXPORT = "/api/surveys/{}/responses.csv"


def export(client: TestClient, slug: str, plain: str) -> int:
    bearer = {"Authorization": f"Bearer {plain}"}
    return int(client.get(EXPORT.format(slug), headers=bearer).status_code)


def test_a_token_made_on_the_page_has_an_owner_a_scope_and_an_expiry(
    client: TestClient, database: Database
) -> None:
    load(
        database,
        definition_from("slug: other\ntitle: O\nquestions: [{key: a, type: yes_no, label: A}]\n"),
    )
    owner = create_staff(database, ADMIN_EMAIL, "admin")
    assert sign_in(client, ADMIN_EMAIL).status_code == 303
    token = csrf_token(client, "/admin/tokens")
    made = client.post(
        "/admin/tokens",
        data={"_csrf": token, "name": "report", "survey": "libraries-abroad", "expires": "30"},
    )
    assert made.status_code == 200
    plain = made.text.split("data-new-token>")[1].split("<")[0]
    assert export(client, "libraries-abroad", plain) == 200
    assert export(client, "other", plain) == 403  # outside its scope
    with database.session() as session:
        row = session.exec(sa.select(ApiToken)).scalars().one()
    assert row.owner_id == owner
    assert row.last_used_at is not None
    assert row.expires_at is not None
    assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)
    listing = client.get("/admin/tokens").text
    assert ADMIN_EMAIL in listing
    assert "libraries-abroad" in listing


def test_tokens_stop_at_expiry_and_when_their_owner_is_disabled(
    client: TestClient, database: Database
) -> None:
    owner = create_staff(database, "owner@example.org", "admin")
    with database.begin(write=True) as session:
        _, expired = store.create_token(
            session, name="old", expires_at=utcnow() - timedelta(seconds=1)
        )
        _, owned = store.create_token(session, name="owned", owner_id=owner)
    assert export(client, "libraries-abroad", expired) == 401
    assert export(client, "libraries-abroad", owned) == 200
    with database.begin(write=True) as session:
        user = store.get_user(session, user_id=owner)
        assert user is not None
        store.disable_user(session, user=user)
    assert export(client, "libraries-abroad", owned) == 401
    with database.begin(write=True) as session:
        user = store.get_user(session, user_id=owner)
        assert user is not None
        store.enable_user(session, user=user)
    assert export(client, "libraries-abroad", owned) == 401  # revoked for good


def test_every_token_export_is_in_the_audit_trail(
    client: TestClient, token: str, database: Database
) -> None:
    assert (
        client.get(
            EXPORT.format("libraries-abroad") + "?since=2026-01-01",
            headers={"Authorization": f"Bearer {token}"},
        ).status_code
        == 200
    )
    with database.session() as session:
        rows = session.execute(sa.text("SELECT action, actor, survey_slug FROM audit_event")).all()
    assert [(a, s) for a, _, s in rows] == [("export", "libraries-abroad")]
    assert rows[0][1].startswith("token ")


def test_the_new_token_is_listed_on_the_page_that_shows_it(
    client: TestClient, database: Database
) -> None:
    create_staff(database, ADMIN_EMAIL, "admin")
    assert sign_in(client, ADMIN_EMAIL).status_code == 303
    token = csrf_token(client, "/admin/tokens")
    made = client.post("/admin/tokens", data={"_csrf": token, "name": "weekly digest"})
    assert made.status_code == 200
    assert "weekly digest" in made.text.split("<table", 1)[1]
