"""Sending the form (survey.web.public.submit) when the survey changes under the
reader, and the spam folder's limits."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.models import Response, SpamSubmission, SurveyVersion
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import form_token, load

FORM = "/s/libraries-abroad"
API = "/api/surveys/libraries-abroad/responses"
ANSWERS = {
    "visits_libraries": "often",
    "lessons": "Story walks",
    "places": "Toronto, Riyadh",
    "international_member": "yes",
    "based_in": "CA",
}


def stored(database: Database) -> list[tuple[int, dict[str, Any]]]:
    with database.session() as session:
        rows = session.exec(
            select(SurveyVersion.version, Response.answers)
            .join(SurveyVersion, SurveyVersion.id == Response.survey_version_id)
            .order_by(Response.id)
        ).all()
    return [(int(version), answers) for version, answers in rows]


def without(definition: SurveyDefinition, key: str) -> SurveyDefinition:
    return definition.model_copy(
        update={"questions": [q for q in definition.questions if q.key != key]}
    )


def test_answers_are_stored_against_the_version_the_reader_saw(
    client: TestClient, database: Database, bundled: SurveyDefinition
) -> None:
    token = form_token(client, FORM)
    assert load(database, without(bundled, "places")).outcome == "new version"
    sent = client.post(FORM, data={**ANSWERS, "_token": token})
    assert sent.status_code == 303
    # Nothing the reader answered was dropped: "places" is kept, under version 1.
    assert stored(database) == [(1, ANSWERS)]
    # A form shown after the change is stored under the new version.
    fresh = form_token(client, FORM)
    answers = {k: v for k, v in ANSWERS.items() if k != "places"}
    assert client.post(FORM, data={**answers, "_token": fresh}).status_code == 303
    assert stored(database)[-1] == (2, answers)


def test_a_problem_with_an_old_version_shows_that_version_again(
    client: TestClient, database: Database, bundled: SurveyDefinition
) -> None:
    token = form_token(client, FORM)
    load(database, without(bundled, "places"))
    again = client.post(FORM, data={**ANSWERS, "visits_libraries": "", "_token": token})
    assert again.status_code == 422
    # The question the new version removed is still on the form, answer kept.
    assert 'name="places"' in again.text
    assert "Toronto, Riyadh" in again.text
    assert stored(database) == []


def test_an_api_response_without_a_key_gets_one_from_the_server(
    client: TestClient, database: Database
) -> None:
    for _ in range(2):
        answer = client.post(
            "/api/surveys/libraries-abroad/responses",
            json={"answers": {"visits_libraries": "often"}},
        )
        assert answer.status_code == 201
    with database.session() as session:
        keys = [r.submission_key for r in session.exec(select(Response))]
    assert len(keys) == 2
    assert all(key and key.startswith("server:") for key in keys)
    assert keys[0] != keys[1]


def spam_rows(database: Database) -> list[SpamSubmission]:
    with database.session() as session:
        return list(session.exec(select(SpamSubmission)))


def test_a_replayed_token_holds_one_spam_row_with_the_surveys_own_fields_only(
    client: TestClient, database: Database
) -> None:
    token = form_token(client, FORM)
    bot = {
        **ANSWERS,
        "_token": token,
        "_homepage": "http://spam.example/" + "x" * 5000,
        "lessons": "y" * 3000,  # the question takes 2,000
        "junk_field": "z" * 20_000,
    }
    for _ in range(5):
        assert client.post(FORM, data=bot).status_code == 303
    [held] = spam_rows(database)
    assert set(held.fields) == set(ANSWERS) | {"_homepage"}
    assert len(held.fields["_homepage"][0]) == 200
    assert held.fields["lessons"] == ["y" * 2000]  # within the question's own limit
    assert stored(database) == []


def test_spam_counts_against_the_senders_budget(settings: Settings, bundled: object) -> None:
    limited = settings.model_copy(update={"rate_limit": "2/minute"})
    with TestClient(create_app(limited), follow_redirects=False) as client:
        answers = []
        for _ in range(3):
            token = form_token(client, FORM)
            answers.append(
                client.post(FORM, data={**ANSWERS, "_token": token, "_homepage": "x"}).status_code
            )
    assert answers == [303, 303, 429]


@pytest.mark.parametrize(
    ("address", "counted"),
    [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "192.0.2.7"),
        ("unknown", "unknown"),
    ],
)
def test_ipv6_clients_are_counted_by_their_64(address: str, counted: str) -> None:
    from survey.ratelimit import counted_as

    assert counted_as(address) == counted


def test_a_survey_with_max_responses_closes_itself_when_full(
    client: TestClient, database: Database
) -> None:
    from tests.helpers import definition_from

    load(
        database,
        definition_from(
            "slug: capped\ntitle: Book club\nmax_responses: 2\n"
            "questions:\n  - {key: note, type: short_text, label: Note}\n"
        ),
    )
    assert client.get("/api/surveys/capped").json()["max_responses"] == 2
    # The first form is opened before the survey fills up and sent after.
    late_token = form_token(client, "/s/capped")
    first = client.post("/api/surveys/capped/responses", json={"answers": {"note": "a"}})
    token = form_token(client, "/s/capped")
    second = client.post("/s/capped", data={"_token": token, "note": "b"})
    assert (first.status_code, second.status_code) == (201, 303)
    # Sent again (a double click): the same response, thanked, not "full".
    assert client.post("/s/capped", data={"_token": token, "note": "b"}).status_code == 303

    page = client.get("/s/capped")
    assert page.status_code == 410
    assert "Book club has all the answers it needs" in page.text
    late = client.post("/s/capped", data={"_token": late_token, "note": "c"})
    assert late.status_code == 410
    assert "received all the responses it was collecting" in late.text
    api = client.post("/api/surveys/capped/responses", json={"answers": {"note": "d"}})
    assert api.status_code == 410
    assert api.json()["errors"]["_survey"].startswith("This survey has all the responses")
    assert client.get("/api/surveys/capped").json()["status"] == "closed"
    assert [answers["note"] for _, answers in stored(database)] == ["a", "b"]
