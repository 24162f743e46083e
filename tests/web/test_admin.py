"""The staff workspace through the real app, on SQLite and PostgreSQL: signing
in, roles on every route, CSRF, the responses table, one response, deletion,
erasure, users, tokens, surveys and the audit trail.  Summaries and downloads
are in test_admin_reports.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from survey.db import Database
from survey.models import utcnow
from tests.helpers import (
    ADMIN_EMAIL,
    VIEWER_EMAIL,
    add_response,
    create_staff,
    csrf_token,
    sign_in,
    stored_answers,
)

SLUG = "libraries-abroad"


@pytest.fixture
def staff_ids(database: Database) -> dict[str, int]:
    return {
        "admin": create_staff(database, ADMIN_EMAIL, "admin"),
        "viewer": create_staff(database, VIEWER_EMAIL, "viewer"),
    }


@pytest.fixture
def admin(client: TestClient, staff_ids: dict[str, int]) -> TestClient:
    assert sign_in(client, ADMIN_EMAIL).status_code == 303
    return client


def page(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def audit_actions(database: Database) -> list[tuple[str, str | None, dict[str, Any]]]:
    from sqlmodel import select

    from survey.models import AuditEvent

    with database.session() as s:
        events = s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
        return [(e.action, e.actor, e.detail) for e in events]


# --- Signing in -------------------------------------------------------------------


def test_a_staff_page_sends_strangers_to_sign_in_and_back(
    client: TestClient, staff_ids: dict[str, int]
) -> None:
    response = client.get(f"/admin/surveys/{SLUG}/responses?q=x")
    assert response.status_code == 303
    assert (
        response.headers["location"] == f"/admin/login?next=/admin/surveys/{SLUG}/responses%3Fq%3Dx"
    )

    signed_in = sign_in(client, VIEWER_EMAIL, next=f"/admin/surveys/{SLUG}/responses?q=x")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == f"/admin/surveys/{SLUG}/responses?q=x"
    cookie = signed_in.headers["set-cookie"]
    assert "survey_staff=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("samesite", "SameSite")
    assert "Secure" not in cookie  # plain http in tests; see the https test below

    dashboard = client.get("/admin")
    assert dashboard.status_code == 200
    rows = page(dashboard).select("tbody tr")
    assert [r.th.a.get_text() for r in rows] == ["Libraries Abroad"]


def test_sign_in_never_redirects_to_another_site(
    client: TestClient, staff_ids: dict[str, int]
) -> None:
    response = sign_in(client, VIEWER_EMAIL, next="https://evil.example/")
    assert response.headers["location"] == "/admin"
    client.cookies.clear()
    response = sign_in(client, VIEWER_EMAIL, next="//evil.example/admin")
    assert response.headers["location"] == "/admin"


def test_the_session_cookie_is_secure_over_https(
    settings: Any, bundled: Any, database: Database
) -> None:
    from survey.web.app import create_app

    create_staff(database, VIEWER_EMAIL, "viewer")
    app = create_app(settings)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as https:
        assert "Secure" in sign_in(https, VIEWER_EMAIL).headers["set-cookie"]


def test_a_wrong_password_is_refused_slowly_and_then_limited(
    client: TestClient, staff_ids: dict[str, int], database: Database
) -> None:
    for _ in range(5):
        refused = sign_in(client, VIEWER_EMAIL, password="not the password at all")
        assert refused.status_code == 401
        assert "The email address or password is not right." in refused.text
        assert "survey_staff=" not in refused.headers.get("set-cookie", "")
    # The account is now limited: even the right password waits.
    limited = sign_in(client, VIEWER_EMAIL)
    assert limited.status_code == 429
    assert "Too many failed sign-ins" in limited.text
    # Another account from the same client still may (20 per client).
    assert sign_in(client, ADMIN_EMAIL).status_code == 303
    actions = [action for action, _, _ in audit_actions(database)]
    assert actions == ["sign_in_failed"] * 5 + ["sign_in_refused", "sign_in"]


def test_an_unknown_account_gets_the_same_answer(
    client: TestClient, staff_ids: dict[str, int]
) -> None:
    refused = sign_in(client, "nobody@example.org")
    assert refused.status_code == 401
    assert "The email address or password is not right." in refused.text


def test_the_sign_in_form_needs_its_own_token(
    client: TestClient, staff_ids: dict[str, int]
) -> None:
    forged = client.post(
        "/admin/login", data={"email": VIEWER_EMAIL, "password": "a long enough password"}
    )
    assert forged.status_code == 403
    assert "survey_staff=" not in forged.headers.get("set-cookie", "")


def test_signing_out_ends_the_session_on_the_server(admin: TestClient) -> None:
    stolen = dict(admin.cookies)
    token = csrf_token(admin)
    assert admin.post("/admin/logout", data={"_csrf": token}).status_code == 303
    admin.cookies.clear()
    admin.cookies.update(stolen)  # the old cookie, replayed
    assert admin.get("/admin").status_code == 303


def test_an_expired_session_signs_out(admin: TestClient, database: Database) -> None:
    with database.begin(write=True) as s:
        s.execute(
            sa.text("UPDATE staff_session SET expires_at = :t"),
            {"t": utcnow() - timedelta(seconds=1)},
        )
    assert admin.get("/admin").status_code == 303


def test_a_disabled_account_is_signed_out_at_once(
    client: TestClient, staff_ids: dict[str, int]
) -> None:
    assert sign_in(client, VIEWER_EMAIL).status_code == 303
    viewer_cookies = dict(client.cookies)
    client.cookies.clear()
    sign_in(client, ADMIN_EMAIL)
    disable = client.post(
        f"/admin/users/{staff_ids['viewer']}/disable", data={"_csrf": csrf_token(client)}
    )
    assert disable.status_code == 303
    client.cookies.clear()
    client.cookies.update(viewer_cookies)
    assert client.get("/admin").status_code == 303
    assert sign_in(client, VIEWER_EMAIL).status_code == 401


def test_staff_pages_are_never_framed_or_cached(admin: TestClient) -> None:
    for path in ("/admin", "/admin/login", f"/admin/surveys/{SLUG}/responses"):
        response = admin.get(path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"


# --- Roles on every route ----------------------------------------------------------

# What a viewer may reach; everything else under /admin is for admins only.
# A new route must be added to one of these, or the walk below fails.
VIEWER_ROUTES = {
    ("GET", "/admin"),
    ("POST", "/admin/logout"),
    ("GET", "/admin/surveys/{slug}/responses"),
    ("GET", "/admin/surveys/{slug}/responses/{response_id}"),
    ("GET", "/admin/surveys/{slug}/summary"),
    ("GET", "/admin/surveys/{slug}/download"),
    ("GET", "/admin/surveys/{slug}/spam"),
    ("GET", "/admin/surveys/{slug}"),
    ("GET", "/admin/surveys/{slug}/survey.yaml"),
    ("GET", "/admin/surveys/{slug}/edit/preview"),
    ("GET", "/admin/account"),
    ("POST", "/admin/account/password"),
    ("GET", "/admin/account/two-step"),
    ("POST", "/admin/account/two-step"),
    ("POST", "/admin/account/two-step/off"),
    ("POST", "/admin/account/notifications"),
}
ADMIN_ROUTES = {
    ("GET", "/admin/surveys/{slug}/responses/{response_id}/delete"),
    ("POST", "/admin/surveys/{slug}/responses/{response_id}/delete"),
    ("POST", "/admin/surveys/{slug}/responses/{response_id}/feature"),
    ("POST", "/admin/surveys/{slug}/spam/{spam_id}/restore"),
    ("POST", "/admin/surveys/{slug}/spam/{spam_id}/delete"),
    ("POST", "/admin/surveys/{slug}/spam/delete"),
    ("GET", "/admin/erase"),
    ("POST", "/admin/erase/check"),
    ("POST", "/admin/erase"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/{user_id}/{change}"),
    ("GET", "/admin/users/{user_id}/password"),
    ("POST", "/admin/users/{user_id}/password"),
    ("POST", "/admin/users/{user_id}/two-step/off"),
    ("GET", "/admin/tokens"),
    ("POST", "/admin/tokens"),
    ("POST", "/admin/tokens/{token_id}/revoke"),
    ("GET", "/admin/surveys/new"),
    ("POST", "/admin/surveys"),
    ("POST", "/admin/surveys/new/blank"),
    ("POST", "/admin/surveys/new/post"),
    ("POST", "/admin/surveys/new/copy"),
    ("POST", "/admin/surveys/new/file"),
    ("POST", "/admin/surveys/{slug}/accepting"),
    ("GET", "/admin/surveys/{slug}/edit"),
    ("POST", "/admin/surveys/{slug}/edit"),
    ("POST", "/admin/surveys/{slug}/edit/settings"),
    ("GET", "/admin/surveys/{slug}/edit/questions/new"),
    ("POST", "/admin/surveys/{slug}/edit/questions"),
    ("GET", "/admin/surveys/{slug}/edit/questions/{number}"),
    ("POST", "/admin/surveys/{slug}/edit/questions/{number}"),
    ("POST", "/admin/surveys/{slug}/edit/questions/{number}/move"),
    ("POST", "/admin/surveys/{slug}/edit/questions/{number}/remove"),
    ("POST", "/admin/surveys/{slug}/edit/publish"),
    ("POST", "/admin/surveys/{slug}/edit/discard"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/surveys/{slug}/webhooks"),
    ("POST", "/admin/surveys/{slug}/webhooks"),
    ("GET", "/admin/webhooks/{webhook_id}"),
    ("POST", "/admin/webhooks/{webhook_id}/test"),
    ("POST", "/admin/webhooks/{webhook_id}/pause"),
    ("POST", "/admin/webhooks/{webhook_id}/remove"),
    ("POST", "/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"),
}
PUBLIC_ROUTES = {
    ("GET", "/admin/login"),
    ("POST", "/admin/login"),
    ("POST", "/admin/login/code"),
    # The emails' stop link: its signed token is the permission (tests/test_mail.py).
    ("GET", "/admin/notifications/stop"),
    ("POST", "/admin/notifications/stop"),
}


def test_every_admin_route_checks_the_role_on_the_server(
    client: TestClient, staff_ids: dict[str, int], database: Database, token: str
) -> None:
    from survey.web.admin import router

    routes = {
        (method, route.path)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert routes == VIEWER_ROUTES | ADMIN_ROUTES | PUBLIC_ROUTES

    other = create_staff(database, "other@example.org", "viewer")
    response_id = add_response(database, answers={"visits_libraries": "often"})
    from survey.store import insert_spam

    with database.write_connection() as conn:
        insert_spam(
            conn,
            survey_id=1,
            reason="honeypot",
            fields={"visits_libraries": ["often"]},
            source=None,
        )
    # A draft of the survey, for the builder's pages to work on.
    with database.begin(write=True) as session:
        from survey import builder, store
        from survey.definitions import SurveyDefinition

        live = store.get_survey(session, slug=SLUG)
        assert live is not None
        definition = SurveyDefinition.model_validate(live.definition)
        store.create_draft(
            session,
            slug=SLUG,
            survey_id=live.id,
            document=builder.file_document(definition),
            languages=definition.languages,
            change="walk",
            actor=ADMIN_EMAIL,
        )
        # A webhook with one event, for its page, test, redelivery and pause.
        assert live.id is not None
        webhook = store.add_webhook(
            session, survey_id=live.id, url="https://127.0.0.1:9/walk", format="standard"
        )
        store.add_test_event(session, webhook=webhook)
    values = {
        "{number}": "1",
        "{spam_id}": "1",
        "{slug}": SLUG,
        "{response_id}": str(response_id),
        "{user_id}": str(other),
        "{change}": "enable",
        "{token_id}": "1",
        "{webhook_id}": "1",
        "{delivery_id}": "1",
    }
    sessions: dict[str, dict[str, str]] = {"anonymous": {}}
    for role, email in (("viewer", VIEWER_EMAIL), ("admin", ADMIN_EMAIL)):
        client.cookies.clear()
        assert sign_in(client, email).status_code == 303
        sessions[role] = dict(client.cookies)
    csrf = {}
    for role in ("viewer", "admin"):
        client.cookies.clear()
        client.cookies.update(sessions[role])
        csrf[role] = csrf_token(client)

    def call(role: str, method: str, template: str) -> int:
        path = template
        for name, value in values.items():
            path = path.replace(name, value)
        client.cookies.clear()
        client.cookies.update(sessions[role])
        if method == "GET":
            return client.get(path).status_code
        data = {"_csrf": csrf.get(role, ""), "email": "nobody@example.org", "name": "walk"}
        if template == "/admin/logout":
            return 303  # walked last below: it would end the session
        return client.post(path, data=data).status_code

    for method, path in sorted(VIEWER_ROUTES | ADMIN_ROUTES):
        anonymous = call("anonymous", method, path)
        assert anonymous == 303, (method, path, anonymous)
        viewer = call("viewer", method, path)
        if (method, path) in ADMIN_ROUTES:
            assert viewer == 403, (method, path, viewer)
        else:
            # 422: a viewer's own form (the password change) sent without its fields.
            assert viewer in (200, 303, 422), (method, path, viewer)
    # Pages first (a confirmation page needs what its POST deletes), then the
    # changes, deleting last of what others need.
    gets = sorted(r for r in ADMIN_ROUTES if r[0] == "GET")
    for method, path in [*gets, *sorted(set(ADMIN_ROUTES) - set(gets), reverse=True)]:
        if method == "POST" and "{spam_id}" in path:
            # Restoring or deleting a submission uses it up: one held for each.
            with database.write_connection() as conn:
                insert_spam(conn, survey_id=1, reason="honeypot", fields={}, source=None)
                held = conn.exec_driver_sql("SELECT max(id) FROM spam_submission").scalar_one()
            values["{spam_id}"] = str(held)
        status = call("admin", method, path)
        # Past the role check: the page, its redirect, or the form's own answer to
        # the walk's empty fields (400/422; 409 for a draft saved from no revision).
        assert status in (200, 303, 400, 409, 422), (method, path, status)
    # Signing out, for each role, last.
    for role in ("viewer", "admin"):
        client.cookies.clear()
        client.cookies.update(sessions[role])
        assert client.post("/admin/logout", data={"_csrf": csrf[role]}).status_code == 303


def test_a_post_without_its_csrf_token_changes_nothing(
    admin: TestClient, database: Database
) -> None:
    response_id = add_response(database, answers={"visits_libraries": "often"})
    path = f"/admin/surveys/{SLUG}/responses/{response_id}/delete"
    assert admin.post(path, data={}).status_code == 403
    assert admin.post(path, data={"_csrf": "guess"}).status_code == 403
    cross_site = admin.post(
        path, data={"_csrf": csrf_token(admin)}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross_site.status_code == 403
    assert len(stored_answers(database)) == 1
    assert admin.post(path, data={"_csrf": csrf_token(admin)}).status_code == 303
    assert stored_answers(database) == []


# --- Responses -----------------------------------------------------------------------


def table_ids(response: Any) -> list[int]:
    return [int(row.th.get_text().lstrip("#")) for row in page(response).select("tbody tr")]


def test_the_table_pages_newest_first_with_keyset_links(
    admin: TestClient, database: Database
) -> None:
    ids = [add_response(database, answers={"visits_libraries": "often"}) for _ in range(120)]
    first = admin.get(f"/admin/surveys/{SLUG}/responses")
    assert "120 responses" in page(first).select_one(".result-count").get_text()
    assert table_ids(first) == ids[::-1][:50]
    older = page(first).select_one('a[rel="next"]')["href"]
    assert page(first).select_one('a[rel="prev"]') is None
    second = admin.get(f"/admin/surveys/{SLUG}/responses{older}")
    assert table_ids(second) == ids[::-1][50:100]
    third = admin.get(
        f"/admin/surveys/{SLUG}/responses{page(second).select_one('a[rel=next]')['href']}"
    )
    assert table_ids(third) == ids[::-1][100:]
    assert page(third).select_one('a[rel="next"]') is None
    back = admin.get(
        f"/admin/surveys/{SLUG}/responses{page(third).select_one('a[rel=prev]')['href']}"
    )
    assert table_ids(back) == ids[::-1][50:100]


def test_filters_by_choice_date_and_search(admin: TestClient, database: Database) -> None:
    often = add_response(
        database,
        answers={
            "visits_libraries": "often",
            "lessons": "Un programme d'ÉTÉ",
            "resources": ["webinars", "other"],
            "resources_other": "podcasts",
        },
    )
    sometimes = add_response(
        database, answers={"visits_libraries": "sometimes", "resources": ["journal"]}
    )
    base = f"/admin/surveys/{SLUG}/responses"
    assert table_ids(admin.get(f"{base}?f.visits_libraries=often")) == [often]
    assert table_ids(admin.get(f"{base}?f.resources=journal")) == [sometimes]
    assert table_ids(admin.get(f"{base}?f.resources=webinars&f.visits_libraries=often")) == [often]
    assert table_ids(admin.get(f"{base}?q=été")) == [often]  # case folded, accents kept
    assert table_ids(admin.get(f"{base}?q=PODCAST")) == [often]  # "Other" texts too
    assert table_ids(admin.get(f"{base}?q=nothing+like+it")) == []
    # LIKE's wildcards are plain characters in a search.
    fifty = add_response(database, answers={"visits_libraries": "often", "places": "50%_off!"})
    add_response(database, answers={"visits_libraries": "often", "places": "500 x off"})
    assert table_ids(admin.get(f"{base}?q=50%25_OFF!")) == [fifty]
    assert table_ids(admin.get(f"{base}?q=%25_o")) == [fifty]
    today = utcnow().date()
    assert len(table_ids(admin.get(f"{base}?since={today}&until={today}"))) == 4
    assert table_ids(admin.get(f"{base}?until={today - timedelta(days=1)}")) == []
    # The chosen filter is shown back in the form.
    shown = page(admin.get(f"{base}?f.visits_libraries=often&q=été"))
    assert shown.select_one("#f-visits_libraries option[selected]")["value"] == "often"
    assert shown.select_one("#q")["value"] == "été"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=yesterday", "since must be a date"),
        ("f.visits_libraries=never", "is not an answer to visits_libraries"),
        ("f.lessons=x", "lessons is not a choice question"),
        ("since=2027-02-01&until=2027-01-01", "until must be after since"),
    ],
)
def test_a_bad_filter_is_explained_not_a_500(admin: TestClient, query: str, message: str) -> None:
    response = admin.get(f"/admin/surveys/{SLUG}/responses?{query}")
    assert response.status_code == 422
    assert message in response.text


def test_one_response_shows_every_answer_as_words(admin: TestClient, database: Database) -> None:
    response_id = add_response(
        database,
        answers={
            "visits_libraries": "often",
            "international_member": "yes",
            "based_in": "SA",
            "resources": ["webinars", "other"],
            "resources_other": "podcasts",
            "quote_consent": True,
        },
    )
    shown = page(admin.get(f"/admin/surveys/{SLUG}/responses/{response_id}"))
    answers = {
        div.dt.get_text(): div.dd.get_text(" ", strip=True)
        for div in shown.select(".summary-list > div")
    }
    assert (
        answers["Are you visiting other libraries when you go on vacation?"]
        == "Yes, whenever I can"
    )
    assert answers["Where are you based?"] == "Saudi Arabia"
    assert (
        answers["How have you been using our resources?"]
        == "Webinars and online learning; Other: podcasts"
    )
    assert answers["You may quote my answers on the ALSC blog."] == "Agreed"
    assert answers["What are you learning?"] == "Not answered"
    assert answers["Survey version"] == "1"
    assert admin.get(f"/admin/surveys/{SLUG}/responses/999999").status_code == 404
    assert admin.get("/admin/surveys/no-such-survey/responses").status_code == 404


HOSTILE = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "</textarea><svg onload=alert(1)>",
    "{{ 7*7 }}",
]


def test_hostile_answers_show_as_text_everywhere(admin: TestClient, database: Database) -> None:
    for text in HOSTILE:
        add_response(database, answers={"visits_libraries": "often", "lessons": text, "name": text})
    for path in (
        f"/admin/surveys/{SLUG}/responses",
        f"/admin/surveys/{SLUG}/responses/1",
        f"/admin/surveys/{SLUG}/summary",
    ):
        shown = page(admin.get(path))
        assert shown.find("script", src=False) is None, path
        assert shown.find("img") is None, path
        assert shown.find("svg", onload=True) is None, path
        visible = shown.get_text()
        assert '<script>alert("x")</script>' in visible or path.endswith("/1"), path
    one = page(admin.get(f"/admin/surveys/{SLUG}/responses/1")).get_text()
    assert '<script>alert("x")</script>' in one
    assert "{{ 7*7 }}" in page(admin.get(f"/admin/surveys/{SLUG}/responses/4")).get_text()


def test_admin_deletes_a_response_for_real(admin: TestClient, database: Database) -> None:
    keep = add_response(database, answers={"visits_libraries": "often"})
    gone = add_response(database, answers={"visits_libraries": "sometimes"})
    deleted = admin.post(
        f"/admin/surveys/{SLUG}/responses/{gone}/delete", data={"_csrf": csrf_token(admin)}
    )
    assert deleted.status_code == 303
    with database.session() as s:
        ids = [row[0] for row in s.execute(sa.text("SELECT id FROM response"))]
    assert ids == [keep]
    assert "was deleted" in admin.get(deleted.headers["location"]).text
    again = admin.post(
        f"/admin/surveys/{SLUG}/responses/{gone}/delete", data={"_csrf": csrf_token(admin)}
    )
    assert again.status_code == 404
    assert ("delete_response", ADMIN_EMAIL, {"response_id": gone}) in audit_actions(database)


def test_erasure_shows_what_will_go_then_deletes_it_all(
    admin: TestClient, database: Database
) -> None:
    from survey.store import insert_spam

    add_response(database, answers={"visits_libraries": "often", "email": "Reader@Example.org"})
    add_response(database, answers={"visits_libraries": "not_yet", "email": "reader@example.org"})
    keep = add_response(
        database, answers={"visits_libraries": "often", "email": "other@example.org"}
    )
    with database.write_connection() as conn:
        insert_spam(
            conn,
            survey_id=1,
            reason="honeypot",
            fields={"email": ["READER@example.org"]},
            source=None,
        )
        insert_spam(
            conn,
            survey_id=1,
            reason="honeypot",
            fields={"email": ["else@example.org"]},
            source=None,
        )
    token = csrf_token(admin, "/admin/erase")
    check = admin.post("/admin/erase/check", data={"_csrf": token, "email": "reader@EXAMPLE.org"})
    assert check.status_code == 200
    assert "2 responses sent with this email address will be deleted" in page(check).get_text(
        " ", strip=True
    )
    assert len(stored_answers(database)) == 3  # nothing deleted by looking

    done = admin.post("/admin/erase", data={"_csrf": token, "email": "reader@EXAMPLE.org"})
    assert done.status_code == 303
    assert "2 responses were erased" in admin.get(done.headers["location"]).text
    with database.session() as s:
        assert [r[0] for r in s.execute(sa.text("SELECT id FROM response"))] == [keep]
        assert s.execute(sa.text("SELECT count(*) FROM spam_submission")).scalar_one() == 1
    action, actor, detail = audit_actions(database)[-1]
    assert (action, actor, detail) == ("erase", ADMIN_EMAIL, {"responses": 2, "spam": 1})
    assert "reader@" not in str(audit_actions(database)).lower()

    empty = admin.post("/admin/erase", data={"_csrf": token, "email": "not-an-address"})
    assert empty.status_code == 303
    bad = admin.post("/admin/erase/check", data={"_csrf": token, "email": "not-an-address"})
    assert bad.status_code == 422


# --- Users, tokens, surveys, audit ------------------------------------------------------


def test_admin_adds_users_with_clear_errors(admin: TestClient, database: Database) -> None:
    token = csrf_token(admin, "/admin/users")
    bad = admin.post(
        "/admin/users", data={"_csrf": token, "email": "nope", "role": "owner", "password": "short"}
    )
    assert bad.status_code == 422
    summary = [a.get_text() for a in page(bad).select(".error-summary a")]
    assert summary == [
        "Enter an email address like name@example.org",
        "Choose viewer or admin",
        "Use a password of at least 12 characters",
    ]
    good = admin.post(
        "/admin/users",
        data={
            "_csrf": token,
            "email": "New.Person@Example.org",
            "role": "viewer",
            "password": "another long password",
        },
    )
    assert good.status_code == 303
    listed = [row.th.get_text() for row in page(admin.get("/admin/users")).select("tbody tr")]
    assert "new.person@example.org" in listed
    again = admin.post(
        "/admin/users",
        data={
            "_csrf": token,
            "email": "new.person@example.org",
            "role": "viewer",
            "password": "another long password",
        },
    )
    assert again.status_code == 422
    assert "There is already an account" in again.text
    admin.cookies.clear()
    assert sign_in(admin, "new.person@example.org", "another long password").status_code == 303


def test_an_admin_cannot_disable_themselves(admin: TestClient, staff_ids: dict[str, int]) -> None:
    response = admin.post(
        f"/admin/users/{staff_ids['admin']}/disable", data={"_csrf": csrf_token(admin)}
    )
    assert response.status_code == 409
    assert admin.get("/admin").status_code == 200


def test_tokens_are_shown_once_and_can_be_revoked(admin: TestClient, database: Database) -> None:
    token = csrf_token(admin, "/admin/tokens")
    made = admin.post("/admin/tokens", data={"_csrf": token, "name": "monthly report"})
    assert made.status_code == 200
    plain = page(made).select_one("[data-new-token]").get_text()
    assert plain.startswith("rs_")
    assert plain not in admin.get("/admin/tokens").text  # only once
    export = f"/api/surveys/{SLUG}/responses.csv"
    assert admin.get(export, headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    with database.session() as s:
        token_id = s.execute(
            sa.text("SELECT id FROM api_token WHERE name = 'monthly report'")
        ).scalar_one()
    revoked = admin.post(f"/admin/tokens/{token_id}/revoke", data={"_csrf": token})
    assert revoked.status_code == 303
    assert admin.get(export, headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    assert "Revoked" in admin.get("/admin/tokens").text
    assert admin.post("/admin/tokens", data={"_csrf": token, "name": " "}).status_code == 422


def test_admin_loads_a_survey_file_from_the_page(admin: TestClient) -> None:
    token = csrf_token(admin, "/admin/surveys/new")
    bad = admin.post("/admin/surveys", data={"_csrf": token, "definition": "slug: x\nquestions: 3"})
    assert bad.status_code == 422
    assert "the survey file" in page(bad).select_one(".error-summary").get_text()
    text = "slug: new-one\ntitle: A new one\nquestions:\n  - {key: a, type: short_text, label: A}\n"
    good = admin.post("/admin/surveys", data={"_csrf": token, "definition": text})
    assert good.status_code == 303
    titles = [r.th.a.get_text() for r in page(admin.get("/admin")).select("tbody tr")]
    assert titles == ["Libraries Abroad", "A new one"]  # by slug
    assert admin.get("/s/new-one").status_code == 200
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    refused = admin.post("/admin/surveys", data={"_csrf": token, "definition": bomb})
    assert refused.status_code == 422
    assert "aliases (*name) are not allowed" in refused.text


def test_the_audit_trail_records_who_did_what(admin: TestClient, database: Database) -> None:
    add_response(database, answers={"visits_libraries": "often"})
    admin.get(f"/admin/surveys/{SLUG}/download?format=csv&f.visits_libraries=often")
    shown = page(admin.get("/admin/audit"))
    rows = [
        [td.get_text(" ", strip=True) for td in tr.select("td")] for tr in shown.select("tbody tr")
    ]
    assert rows[0][1:5] == [
        ADMIN_EMAIL,
        "export",
        SLUG,
        "filters: f.visits_libraries=often; format: csv; rows: 1",
    ]
    assert rows[1][1:3] == [ADMIN_EMAIL, "sign in"]


def test_an_erased_address_leaves_the_audit_trail_too(
    admin: TestClient, database: Database
) -> None:
    address = "Reader.Person@example.org"
    admin.get(f"/admin/surveys/{SLUG}/download?format=csv&q={address}")
    token = csrf_token(admin, "/admin/erase")
    assert (
        admin.post("/admin/erase", data={"_csrf": token, "email": address.lower()}).status_code
        == 303
    )
    trail = " ".join(f"{actor} {detail}" for _, actor, detail in audit_actions(database))
    assert "reader.person" not in trail.lower()
    assert "[erased]" in trail


def test_staff_notices_cannot_be_written_by_a_link(admin: TestClient) -> None:
    forged = admin.get("/admin?loaded=Your+account+is+compromised")
    assert "compromised" not in forged.text
    token = csrf_token(admin, "/admin/surveys/new")
    text = "slug: noticed\ntitle: Noticed\nquestions:\n  - {key: a, type: short_text, label: A}\n"
    loaded = admin.post("/admin/surveys", data={"_csrf": token, "definition": text})
    assert loaded.status_code == 303
    shown = page(admin.get(loaded.headers["location"])).select_one("[role=status]")
    assert shown is not None
    assert "noticed" in shown.get_text()


def test_deleting_a_response_asks_first(admin: TestClient, database: Database) -> None:
    response_id = add_response(database, answers={"visits_libraries": "often"})
    one = page(admin.get(f"/admin/surveys/{SLUG}/responses/{response_id}"))
    assert one.select('form[action$="/delete"]') == []  # no one-click delete
    link = one.select_one('a[href$="/delete"]')
    assert link is not None
    confirm = page(admin.get(str(link["href"])))
    assert confirm.h1 is not None
    assert f"#{response_id}" in confirm.h1.get_text()
    assert "Yes, whenever I can" in confirm.get_text(" ")  # what will go
    assert confirm.select_one('form[action$="/delete"] button') is not None
    assert stored_answers(database) == [{"visits_libraries": "often"}]  # nothing gone yet


def test_a_response_links_to_its_neighbours_and_says_where_it_came_from(
    admin: TestClient, database: Database, token: str
) -> None:
    first = add_response(database, answers={"visits_libraries": "often"})
    sent = admin.post(
        "/api/surveys/libraries-abroad/responses",
        json={"answers": {"visits_libraries": "sometimes"}},
    )
    second = sent.json()["id"]
    older = page(admin.get(f"/admin/surveys/{SLUG}/responses/{first}"))
    newer = page(admin.get(f"/admin/surveys/{SLUG}/responses/{second}"))
    assert [(a.get_text(), a["href"]) for a in older.select("nav.pager a")] == [
        ("Newer response", f"/admin/surveys/{SLUG}/responses/{second}")
    ]
    assert [(a.get_text(), a["href"]) for a in newer.select("nav.pager a")] == [
        ("Older response", f"/admin/surveys/{SLUG}/responses/{first}")
    ]
    sent_from = {
        div.dt.get_text(): div.dd.get_text() for div in newer.select(".summary-list > div")
    }
    assert sent_from["Sent from"] == "The JSON API (or an import)"


def test_staff_choose_the_table_columns_and_they_stay_in_the_links(
    admin: TestClient, database: Database
) -> None:
    for n in range(52):
        add_response(
            database,
            answers={"visits_libraries": "often", "name": f"Reader {n}", "email": f"r{n}@x.org"},
        )
    shown = page(admin.get(f"/admin/surveys/{SLUG}/responses?col=email&col=name&q=Reader"))
    headers = [th.get_text() for th in shown.select("table thead th")]
    assert headers == ["Response", "Sent", "Your name", "Your email address"]
    assert shown.select("table tbody tr")[0].select("td")[-1].get_text() == "r51@x.org"
    older = shown.select_one("nav.pager a[rel=next]")["href"]
    assert "col=email" in older
    assert "col=name" in older
    assert "q=Reader" in older
    # The filter form keeps them too.
    kept = [i["value"] for i in shown.select("form.filters input[name=col]")]
    assert kept == ["name", "email"]
