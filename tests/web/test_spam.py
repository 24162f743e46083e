"""Spam without CAPTCHAs: a honeypot and a minimum fill time, both sending the
submission to a spam folder behind a normal-looking thank-you page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from survey.cli import main
from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import form_token, stored_answers

FORM = "/s/libraries-abroad"


def spam_count(database: Database) -> dict[str, int]:
    from survey import store

    with database.session() as session:
        survey = store.get_survey(session, slug="libraries-abroad")
        assert survey is not None
        assert survey.id is not None
        return store.count_spam(session, survey_id=survey.id)


def test_the_honeypot_is_hidden_from_people(client: TestClient) -> None:
    page = BeautifulSoup(client.get(FORM).text, "html.parser")
    trap = page.select_one(".trap")
    assert trap is not None
    assert trap["aria-hidden"] == "true"
    field = trap.select_one('input[name="_homepage"]')
    assert field is not None
    assert field["tabindex"] == "-1"
    assert field["autocomplete"] == "off"


def test_a_filled_honeypot_goes_to_the_spam_folder(
    client: TestClient,
    database: Database,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fields = {
        "_token": form_token(client, FORM),
        "_homepage": "http://cheap-pills.example",
        "visits_libraries": "often",
    }
    response = client.post(FORM, data=fields)
    assert response.status_code == 303
    assert response.headers["location"] == f"{FORM}/thanks"
    assert stored_answers(database) == []
    assert spam_count(database) == {"honeypot": 1}
    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    assert main(["spam", "libraries-abroad"]) == 0
    assert "libraries-abroad: 1 in the spam folder" in capsys.readouterr().out


@pytest.fixture
def patient_client(database_url: str, bundled: SurveyDefinition) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, definition_cache_seconds=0, min_fill_seconds=3)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


def test_a_form_sent_too_fast_goes_to_the_spam_folder(
    patient_client: TestClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = {"_token": form_token(patient_client, FORM), "visits_libraries": "often"}
    assert patient_client.post(FORM, data=quick).status_code == 303
    assert stored_answers(database) == []
    assert spam_count(database) == {"too fast": 1}

    import itsdangerous.timed

    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 10)
    earlier = form_token(patient_client, FORM)  # shown ten seconds ago
    monkeypatch.setattr(itsdangerous.timed.time, "time", real_time)
    patient = {"_token": earlier, "visits_libraries": "sometimes"}
    assert patient_client.post(FORM, data=patient).status_code == 303
    assert stored_answers(database) == [{"visits_libraries": "sometimes"}]


def test_an_admin_restores_a_person_caught_by_mistake(
    client: TestClient, database: Database
) -> None:
    from tests.helpers import ADMIN_EMAIL, create_staff, csrf_token, sign_in

    fields = {
        "_token": form_token(client, FORM),
        "visits_libraries": "often",
        "lessons": "Quiet rooms",
        "_homepage": "https://autofill.example",  # a browser's autofill, not a bot
    }
    assert client.post(FORM, data=fields).status_code == 303
    assert stored_answers(database) == []
    create_staff(database, ADMIN_EMAIL, "admin")
    sign_in(client, ADMIN_EMAIL)
    folder = client.get("/admin/surveys/libraries-abroad/spam")
    assert "Quiet rooms" in folder.text
    assert "The hidden field was filled" in folder.text
    token = csrf_token(client, "/admin/surveys/libraries-abroad/spam")
    restored = client.post("/admin/surveys/libraries-abroad/spam/1/restore", data={"_csrf": token})
    assert restored.status_code == 303
    assert stored_answers(database) == [{"visits_libraries": "often", "lessons": "Quiet rooms"}]
    assert "The spam folder is empty." in client.get(restored.headers["location"]).text
    again = client.post("/admin/surveys/libraries-abroad/spam/1/restore", data={"_csrf": token})
    assert again.status_code == 404


def test_spam_that_is_not_a_valid_answer_stays_in_the_folder(
    client: TestClient, database: Database
) -> None:
    from survey.store import insert_spam
    from tests.helpers import ADMIN_EMAIL, create_staff, csrf_token, sign_in

    with database.write_connection() as conn:
        insert_spam(conn, survey_id=1, reason="too fast", fields={"lessons": ["x"]}, source=None)
    create_staff(database, ADMIN_EMAIL, "admin")
    sign_in(client, ADMIN_EMAIL)
    token = csrf_token(client, "/admin/surveys/libraries-abroad/spam")
    refused = client.post("/admin/surveys/libraries-abroad/spam/1/restore", data={"_csrf": token})
    assert refused.status_code == 422
    assert "visits_libraries: Choose an option" in refused.text
    assert stored_answers(database) == []


def test_the_folder_names_the_questions_and_admins_delete_spam(
    client: TestClient, database: Database
) -> None:
    from tests.helpers import ADMIN_EMAIL, create_staff, csrf_token, sign_in

    for n in range(3):
        fields = {
            "_token": form_token(client, FORM),
            "_homepage": "http://cheap-pills.example",
            "lessons": f"Buy now {n}",
            "resources": ["other"],
            "resources_other": "pills",
        }
        assert client.post(FORM, data=fields).status_code == 303
    create_staff(database, ADMIN_EMAIL, "admin")
    sign_in(client, ADMIN_EMAIL)
    folder = BeautifulSoup(client.get("/admin/surveys/libraries-abroad/spam").text, "html.parser")
    names = {dt.get_text() for dt in folder.select(".spam-item dt")}
    assert "What are you learning?" in names
    assert "How have you been using our resources? – “Other”, in their words" in names
    assert "The hidden field (people never see it; bots fill it)" in names
    assert not {"_homepage", "lessons", "resources_other"} & names
    token = csrf_token(client, "/admin/surveys/libraries-abroad/spam")
    one = client.post("/admin/surveys/libraries-abroad/spam/1/delete", data={"_csrf": token})
    assert one.status_code == 303
    assert spam_count(database) == {"honeypot": 2}
    # "Delete all" needs its box ticked.
    unticked = client.post("/admin/surveys/libraries-abroad/spam/delete", data={"_csrf": token})
    assert unticked.status_code == 303
    assert spam_count(database) == {"honeypot": 2}
    emptied = client.post(
        "/admin/surveys/libraries-abroad/spam/delete", data={"_csrf": token, "confirm": "yes"}
    )
    assert "2 submissions were deleted." in client.get(emptied.headers["location"]).text
    assert spam_count(database) == {}
    assert stored_answers(database) == []
