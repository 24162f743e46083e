"""The webhook pages of the workspace (web/admin/webhooks.py), on each
database: adding one, a test event the Standard Webhooks library verifies,
every attempt shown, redelivery with the same id, pausing, a refused
address shown as refused, removing; viewers never see them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook as Verifier

from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.delivery import deliver_due
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import ADMIN_EMAIL, VIEWER_EMAIL, Receiver, create_staff, csrf_token, sign_in

SLUG = "libraries-abroad"


@pytest.fixture
def quiet_settings(settings: Settings) -> Settings:
    # Delivery off in the app: the test makes each pass itself, in its order.
    return settings.model_copy(
        update={"webhook_allow_http": True, "webhook_allow_private": True, "delivery": "off"}
    )


@pytest.fixture
def admin(
    quiet_settings: Settings, bundled: SurveyDefinition, database: Database
) -> Iterator[TestClient]:
    create_staff(database, ADMIN_EMAIL, "admin")
    with TestClient(create_app(quiet_settings), follow_redirects=False) as client:
        assert sign_in(client, ADMIN_EMAIL).status_code == 303
        yield client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def add(admin: TestClient, url: str, format: str = "standard") -> Any:
    token = csrf_token(admin, f"/admin/surveys/{SLUG}/webhooks")
    return admin.post(
        f"/admin/surveys/{SLUG}/webhooks", data={"_csrf": token, "url": url, "format": format}
    )


def post(admin: TestClient, path: str, **data: str) -> Any:
    return admin.post(path, data={"_csrf": csrf_token(admin, "/admin/account"), **data})


def test_an_admin_adds_a_webhook_tests_it_and_sees_every_attempt(
    admin: TestClient, database: Database, quiet_settings: Settings, receiver: Receiver
) -> None:
    empty = admin.get(f"/admin/surveys/{SLUG}/webhooks")
    assert "This survey has no webhooks." in empty.text
    wrong = add(admin, "ftp://hooks.example.org/x")
    assert wrong.status_code == 422
    assert "starting with https://" in text_of(wrong.text)
    assert 'value="ftp://hooks.example.org/x"' in wrong.text  # kept to mend
    added = add(admin, receiver.url)
    assert added.status_code == 303
    assert added.headers["location"].startswith("/admin/webhooks/1?")
    page = admin.get(added.headers["location"])
    assert "The webhook was added." in page.text
    secret = re.search(r"(whsec_[A-Za-z0-9+/=]+)", page.text)
    assert secret
    assert "No attempts yet" in page.text

    tested = post(admin, "/admin/webhooks/1/test")
    assert tested.status_code == 303
    [(headers, body)] = receiver.requests
    event = Verifier(secret.group(1)).verify(body, headers)
    assert event["type"] == "webhook.test"
    assert event["data"]["survey"] == SLUG
    shown = text_of(admin.get(tested.headers["location"]).text)
    assert "A test event was sent." in shown
    assert "Test event" in shown
    assert "Delivered HTTP 200" in shown

    # A response the receiver refuses (400): failed, shown, sent again at a click.
    created = admin.post(
        f"/api/surveys/{SLUG}/responses", json={"answers": {"visits_libraries": "often"}}
    )
    assert created.status_code == 201
    receiver.statuses = [400]
    assert deliver_due(database, quiet_settings) == 1
    shown = text_of(admin.get("/admin/webhooks/1").text)
    assert f"Response {created.json()['id']}" in shown
    assert "Failed HTTP 400" in shown
    assert "Send again" in shown
    again = post(admin, "/admin/webhooks/1/deliveries/2/redeliver")
    assert again.status_code == 303
    assert len(receiver.requests) == 3
    assert receiver.requests[1][0]["webhook-id"] == receiver.requests[2][0]["webhook-id"]
    shown = text_of(admin.get(again.headers["location"]).text)
    assert "The event was sent again." in shown
    assert shown.count("Delivered HTTP 200") == 2
    assert "2 delivered, 0 waiting, 0 failed" in shown
    # An event of another webhook, or none: 404.
    assert post(admin, "/admin/webhooks/1/deliveries/99/redeliver").status_code == 404


def test_a_paused_webhook_holds_its_events_until_resumed(
    admin: TestClient, database: Database, quiet_settings: Settings, receiver: Receiver
) -> None:
    add(admin, receiver.url, "slack")
    paused = post(admin, "/admin/webhooks/1/pause", paused="yes")
    assert "The webhook is paused." in admin.get(paused.headers["location"]).text
    admin.post(f"/api/surveys/{SLUG}/responses", json={"answers": {"visits_libraries": "often"}})
    assert deliver_due(database, quiet_settings) == 0
    assert receiver.requests == []
    assert "0 delivered, 1 waiting, 0 failed" in text_of(admin.get("/admin/webhooks/1").text)
    resumed = post(admin, "/admin/webhooks/1/pause", paused="no")
    assert "The webhook is active again." in admin.get(resumed.headers["location"]).text
    assert deliver_due(database, quiet_settings) == 1
    [(_, body)] = receiver.requests
    assert json.loads(body)["text"].startswith("New response to “Libraries Abroad”")


def test_a_refused_address_is_shown_as_refused(
    admin: TestClient, settings: Settings, receiver: Receiver
) -> None:
    add(admin, "http://169.254.169.254/latest/meta-data/")
    # The app allows private addresses here; the page shows the strict outcome
    # through a pass made with the default settings.
    with TestClient(
        create_app(settings.model_copy(update={"webhook_allow_http": True, "delivery": "off"})),
        follow_redirects=False,
    ) as strict:
        assert sign_in(strict, ADMIN_EMAIL).status_code == 303
        tested = post(strict, "/admin/webhooks/1/test")
        shown = text_of(strict.get(tested.headers["location"]).text)
    assert "Refused: this address may not be reached" in shown
    assert "169.254.169.254 is a local or private address" in shown


def test_removing_asks_first_and_viewers_never_see_webhooks(
    admin: TestClient, database: Database, receiver: Receiver
) -> None:
    add(admin, receiver.url)
    assert ">Webhooks</a>" in admin.get(f"/admin/surveys/{SLUG}").text
    unconfirmed = post(admin, "/admin/webhooks/1/remove")
    assert unconfirmed.status_code == 303
    assert admin.get("/admin/webhooks/1").status_code == 200
    removed = post(admin, "/admin/webhooks/1/remove", confirm="yes")
    assert removed.headers["location"].startswith(f"/admin/surveys/{SLUG}/webhooks?")
    assert "The webhook was removed" in admin.get(removed.headers["location"]).text
    assert admin.get("/admin/webhooks/1").status_code == 404
    create_staff(database, VIEWER_EMAIL, "viewer")
    admin.cookies.clear()
    sign_in(admin, VIEWER_EMAIL)
    assert ">Webhooks</a>" not in admin.get(f"/admin/surveys/{SLUG}").text
    assert admin.get(f"/admin/surveys/{SLUG}/webhooks").status_code == 403


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://exa mple.org/hook", "starting with https://"),
        ("https://hooks.example.org/\x07", "starting with https://"),
        ("https://[::1/hook", "starting with https://"),
        ("https://hooks.example.org:99999/hook", "starting with https://"),
        ("https://hooks.example.org/" + "a" * 2000, "longer than 2,000 characters"),
    ],
)
def test_an_unusable_address_is_refused_with_a_message_not_a_500(
    admin: TestClient, url: str, message: str
) -> None:
    refused = add(admin, url)
    assert refused.status_code == 422
    assert message in text_of(refused.text)
    assert "This survey has no webhooks." in refused.text


def test_an_id_too_large_for_the_database_is_a_400_not_a_500(admin: TestClient) -> None:
    huge = "9" * 25
    for path in (f"/admin/webhooks/{huge}", f"/admin/surveys/{SLUG}/responses/{huge}"):
        assert admin.get(path).status_code == 400, path
    assert post(admin, f"/admin/webhooks/{huge}/test").status_code == 400
