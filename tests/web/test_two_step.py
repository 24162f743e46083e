"""Two-step sign-in (survey.twostep and the account pages): set up with an
authenticator app, sign in with its code or a recovery code, each good once;
SURVEY_REQUIRE_2FA for admins; an admin turns it off for someone who lost
their phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient

from survey import store, twostep
from survey.db import Database
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import ADMIN_EMAIL, VIEWER_EMAIL, create_staff, csrf_token, sign_in


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} on the page"
    return found.group(1)


def set_up(client: TestClient) -> tuple[str, list[str]]:
    """Turn two-step sign-in on for the signed-in account: (secret, recovery codes)."""
    page = client.get("/admin/account/two-step").text
    key = re.search(r'<code class="token" dir="ltr">([A-Z2-7 ]+)</code>', page)
    assert key, "no key on the set-up page"
    secret = key.group(1).replace(" ", "")
    assert 'src="data:image/svg+xml' in page  # the QR code
    form = {"_csrf": csrf_token(client, "/admin/account/two-step"), "setup": field(page, "setup")}
    wrong = client.post("/admin/account/two-step", data={**form, "code": "000000"})
    assert wrong.status_code == 422
    assert "That code is not right" in wrong.text
    done = client.post("/admin/account/two-step", data={**form, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes


def code_step(client: TestClient, email: str, code: str) -> int:
    first = sign_in(client, email)
    assert first.status_code == 200  # the password was right: the code comes next
    assert "survey_staff=" not in first.headers.get("set-cookie", "")
    sent = client.post(
        "/admin/login/code",
        data={
            "_sign_in": field(first.text, "_sign_in"),
            "pending": field(first.text, "pending"),
            "next": "/admin",
            "code": code,
        },
    )
    return int(sent.status_code)


@pytest.fixture
def staff(database: Database) -> dict[str, int]:
    return {
        "admin": create_staff(database, ADMIN_EMAIL, "admin"),
        "viewer": create_staff(database, VIEWER_EMAIL, "viewer"),
    }


def test_codes_are_good_for_their_step_and_its_neighbours_once() -> None:
    secret = twostep.new_secret()
    now = datetime(2026, 12, 6, 12, 0, 10, tzinfo=UTC)
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    assert twostep.check_code(secret, totp.at(now), last_step=None, now=now) == step
    later = totp.at(now + timedelta(seconds=30))
    assert twostep.check_code(secret, later, last_step=None, now=now) == step + 1
    assert twostep.check_code(secret, totp.at(now), last_step=step, now=now) is None  # replayed
    far = totp.at(now + timedelta(minutes=5))
    assert twostep.check_code(secret, far, last_step=None, now=now) is None
    assert twostep.check_code(secret, "12 34", last_step=None, now=now) is None
    codes, hashes = twostep.new_recovery_codes()
    left = twostep.use_recovery_code(hashes, codes[3].upper())
    assert left is not None
    assert len(left) == 9
    assert twostep.use_recovery_code(left, codes[3]) is None


def test_sign_in_with_the_apps_code_and_then_a_recovery_code(
    client: TestClient, staff: dict[str, int], database: Database
) -> None:
    assert sign_in(client, VIEWER_EMAIL).status_code == 303
    secret, codes = set_up(client)
    client.cookies.clear()
    # The setup used this step's code; the next one is good once.
    next_code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
    assert code_step(client, VIEWER_EMAIL, "999999") == 401
    assert code_step(client, VIEWER_EMAIL, next_code) == 303
    assert client.get("/admin").status_code == 200
    client.cookies.clear()
    assert code_step(client, VIEWER_EMAIL, next_code) == 401  # a code is good once
    assert code_step(client, VIEWER_EMAIL, codes[0]) == 303
    client.cookies.clear()
    assert code_step(client, VIEWER_EMAIL, codes[0]) == 401
    with database.session() as session:
        user = store.get_user(session, user_id=staff["viewer"])
        assert user is not None
        assert len(user.recovery_codes or []) == 9


def test_the_code_step_needs_the_password_step_of_the_same_browser(
    client: TestClient, staff: dict[str, int], settings: Settings
) -> None:
    assert sign_in(client, VIEWER_EMAIL).status_code == 303
    set_up(client)
    client.cookies.clear()
    first = sign_in(client, VIEWER_EMAIL)
    with TestClient(create_app(settings), follow_redirects=False) as other:
        stolen = other.post(
            "/admin/login/code",
            data={
                "_sign_in": field(first.text, "_sign_in"),
                "pending": field(first.text, "pending"),
                "code": "123456",
            },
        )
    assert stolen.status_code == 403


def test_admins_must_set_it_up_when_the_site_requires_it(
    settings: Settings, staff: dict[str, int], bundled: object
) -> None:
    required = settings.model_copy(update={"require_2fa": True})
    with TestClient(create_app(required), follow_redirects=False) as client:
        assert sign_in(client, ADMIN_EMAIL).status_code == 303
        blocked = client.get("/admin/users")
        assert blocked.status_code == 303
        assert blocked.headers["location"] == "/admin/account/two-step"
        setup = client.get("/admin/account/two-step")
        assert "asks admins to use two-step sign-in" in setup.text
        set_up(client)
        assert client.get("/admin/users").status_code == 200
        client.cookies.clear()
        assert sign_in(client, VIEWER_EMAIL).status_code == 303
        assert client.get("/admin").status_code == 200  # viewers are not asked


def test_an_admin_turns_it_off_for_someone_who_lost_their_phone(
    client: TestClient, staff: dict[str, int], database: Database
) -> None:
    assert sign_in(client, VIEWER_EMAIL).status_code == 303
    set_up(client)
    client.cookies.clear()
    assert sign_in(client, ADMIN_EMAIL).status_code == 303
    users = client.get("/admin/users").text
    assert "Turn off two-step sign-in" in users
    token = csrf_token(client, "/admin/users")
    off = client.post(f"/admin/users/{staff['viewer']}/two-step/off", data={"_csrf": token})
    assert off.status_code == 303
    assert "Two-step sign-in is off for" in client.get(off.headers["location"]).text
    client.cookies.clear()
    assert sign_in(client, VIEWER_EMAIL).status_code == 303


def test_turning_it_off_yourself_needs_your_password(
    client: TestClient, staff: dict[str, int]
) -> None:
    assert sign_in(client, VIEWER_EMAIL).status_code == 303
    set_up(client)
    token = csrf_token(client, "/admin/account/two-step")
    wrong = client.post("/admin/account/two-step/off", data={"_csrf": token, "password": "x"})
    assert wrong.status_code == 422
    off = client.post(
        "/admin/account/two-step/off",
        data={"_csrf": token, "password": "a long enough password"},
    )
    assert off.status_code == 303
    assert "Two-step sign-in is off" in client.get(off.headers["location"]).text
