"""The JSON API and the CSV export, through the real app."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from survey.db import Database
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import definition_from, load

API = "/api/surveys/libraries-abroad"


def submit(client: TestClient, answers: dict[str, Any]) -> Any:
    return client.post(f"{API}/responses", json={"answers": answers})


def export(client: TestClient, token: str, query: str = "") -> Any:
    return client.get(f"{API}/responses.csv{query}", headers={"Authorization": f"Bearer {token}"})


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_public_definition(client: TestClient) -> None:
    body = client.get(API).json()
    assert body["slug"] == "libraries-abroad"
    assert body["status"] == "open"
    assert body["version"] == 1
    first = body["questions"][0]
    assert first["key"] == "visits_libraries"
    assert first["required"] is True
    assert first["options"][0] == {"value": "often", "label": "Yes, whenever I can"}
    lessons = next(q for q in body["questions"] if q["key"] == "lessons")
    assert lessons["max_length"] == 2000
    assert lessons["show_if"] == {"visits_libraries": ["often", "sometimes"]}
    assert client.get("/api/surveys/nope").status_code == 404


def test_a_submission_answers_201_with_id_and_time(client: TestClient, token: str) -> None:
    response = submit(
        client,
        {
            "visits_libraries": "sometimes",
            "places": "Riyadh, Montréal",
            "international_member": "yes",
            "based_in": "SA",
            "resources": ["toolkits", "other"],
            "resources_other": "Mentoring",
            "quote_consent": True,
        },
    )
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {"id", "submitted_at"}
    assert created["submitted_at"].endswith("Z")
    [row] = rows(export(client, token).text)
    assert row["response_id"] == str(created["id"])
    assert row["submitted_at"] == created["submitted_at"]
    assert row["places"] == "Riyadh, Montréal"
    assert row["resources"] == "toolkits; other: Mentoring"
    assert row["quote_consent"] == "yes"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "key"),
    [
        (b'{"answers": {"visits_libraries": "often"', "application/json", 422, "_body"),
        (b"not json at all", "application/json", 422, "_body"),
        (b'{"answers": {"lessons": "caf\xe9"}}', "application/json", 422, "_body"),
        (b'{"answers": ["often"]}', "application/json", 422, "_body"),
        (b'{"reply": {}}', "application/json", 422, "_body"),
        (b'{"answers": {"visits_libraries": "often"}}', "text/plain", 415, "_body"),
        (
            b'{"answers": {"visits_libraries": "maybe"}}',
            "application/json",
            422,
            "visits_libraries",
        ),
        (b'{"answers": {"visits_libraries": "often", "age": 3}}', "application/json", 422, "age"),
        (b'{"answers": {}}', "application/json", 422, "visits_libraries"),
    ],
)
def test_bad_bodies_get_errors_by_key_and_store_nothing(
    client: TestClient, token: str, body: bytes, content_type: str, status: int, key: str
) -> None:
    response = client.post(f"{API}/responses", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    errors = response.json()["errors"]
    assert key in errors
    assert errors[key]
    assert rows(export(client, token).text) == []


def test_a_body_over_the_limit_is_413(client: TestClient, token: str) -> None:
    response = submit(client, {"visits_libraries": "often", "lessons": "x" * 70_000})
    assert response.status_code == 413
    assert "larger than this survey accepts" in response.json()["detail"]
    assert rows(export(client, token).text) == []


def test_closed_survey_refuses_submissions(client: TestClient, database: Database) -> None:
    load(
        database,
        definition_from(
            "slug: gone\ntitle: Gone\nstatus: closed\n"
            "questions: [{key: a, type: short_text, label: A}]\n"
        ),
    )
    assert client.get("/api/surveys/gone").json()["status"] == "closed"
    response = client.post("/api/surveys/gone/responses", json={"answers": {"a": "x"}})
    assert response.status_code == 410


def test_export_needs_a_valid_token(client: TestClient, token: str) -> None:
    assert client.get(f"{API}/responses.csv").status_code == 401
    assert export(client, token + "x").status_code == 401
    assert (
        client.get(f"{API}/responses.csv", headers={"Authorization": f"Basic {token}"}).status_code
        == 401
    )
    response = export(client, token)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")


def test_export_header_options_and_bom(client: TestClient, token: str) -> None:
    submit(client, {"visits_libraries": "often"})
    text = export(client, token).text
    assert text.splitlines()[0] == (
        "response_id,submitted_at,survey_version,source,language,visits_libraries,lessons,places,"
        "international_member,based_in,resources,anything_else,name,email,quote_consent"
    )
    assert "\r\n" in text  # RFC 4180 line ends
    labels = next(csv.reader(io.StringIO(export(client, token, "?header=labels").text)))
    assert labels[5] == "Are you visiting other libraries when you go on vacation?"
    raw = export(client, token, "?bom=1").content
    assert raw.startswith(b"\xef\xbb\xbfresponse_id,")
    assert not export(client, token).content.startswith(b"\xef\xbb\xbf")


def test_formula_cells_are_defused(client: TestClient, token: str) -> None:
    dangerous = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    for text in dangerous:
        assert (
            submit(client, {"visits_libraries": "often", "anything_else": text}).status_code == 201
        )
    cells = [row["anything_else"] for row in rows(export(client, token).text)]
    assert cells == ["'" + text for text in dangerous]


def test_export_filters_by_date(client: TestClient, token: str) -> None:
    submit(client, {"visits_libraries": "often"})
    assert len(rows(export(client, token, "?since=2000-01-01&until=2999-12-31").text)) == 1
    assert rows(export(client, token, "?until=2000-01-01").text) == []
    assert rows(export(client, token, "?since=2999-01-01").text) == []
    bad = export(client, token, "?since=yesterday")
    assert bad.status_code == 422
    assert "since" in bad.json()["errors"]
    assert export(client, token, "?header=nope").status_code == 422


def test_old_versions_stay_exportable(client: TestClient, token: str, database: Database) -> None:
    load(
        database,
        definition_from(
            "slug: evolving\ntitle: E\nquestions:\n"
            "  - {key: first, type: short_text, label: First}\n"
            "  - {key: dropped, type: short_text, label: Dropped later}\n"
        ),
    )
    client.post("/api/surveys/evolving/responses", json={"answers": {"first": "a", "dropped": "b"}})
    load(
        database,
        definition_from(
            "slug: evolving\ntitle: E\nquestions:\n"
            "  - {key: added, type: yes_no, label: Added}\n"
            "  - {key: first, type: short_text, label: First}\n"
        ),
    )
    client.post("/api/surveys/evolving/responses", json={"answers": {"first": "c", "added": "yes"}})
    rejected = client.post("/api/surveys/evolving/responses", json={"answers": {"dropped": "x"}})
    assert rejected.status_code == 422
    response = client.get(
        "/api/surveys/evolving/responses.csv", headers={"Authorization": f"Bearer {token}"}
    )
    assert (
        response.text.splitlines()[0]
        == "response_id,submitted_at,survey_version,source,language,added,first,dropped"
    )
    assert [
        (r["survey_version"], r["added"], r["first"], r["dropped"]) for r in rows(response.text)
    ] == [
        ("1", "", "a", "b"),
        ("2", "yes", "c", ""),
    ]


def test_healthz_and_docs(client: TestClient, settings: Settings) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    # The interactive docs load third-party scripts: off unless asked for (#13).
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    with TestClient(create_app(settings.model_copy(update={"api_docs": True}))) as docs:
        assert docs.get("/docs").status_code == 200
        assert docs.get("/redoc").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/surveys/{slug}/responses" in paths
    request_body = paths["/api/surveys/{slug}/responses"]["post"]["requestBody"]
    assert "answers" in request_body["content"]["application/json"]["schema"]["properties"]


def test_stored_cells_and_the_answers_export_the_same_bytes(
    client: TestClient, token: str, database: Database
) -> None:
    """Rows written by the app carry their CSV cells; without them the export
    formats the answers itself. Both must give exactly the same file."""
    for answers in (
        {"visits_libraries": "often", "lessons": 'Line 1\nline 2, "quoted"', "places": "=x"},
        {
            "visits_libraries": "sometimes",
            "resources": ["journal", "other"],
            "resources_other": "Zines; comics",
            "international_member": "yes",
            "based_in": "SA",
        },
        {
            "visits_libraries": "not_yet",
            "quote_consent": True,
            "email": "a@example.org",
            "name": "-Nour",
            "anything_else": "@home\ttab",
        },
    ):
        assert submit(client, answers).status_code == 201
    with_cells = export(client, token, "?bom=1").content
    engine = sa.create_engine(database.settings.database_url)
    with engine.begin() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM response WHERE csv_cells IS NOT NULL")
        assert stored.scalar_one() == 3
        conn.exec_driver_sql("UPDATE response SET csv_cells = NULL")
    engine.dispose()
    assert export(client, token, "?bom=1").content == with_cells


def test_an_idempotency_key_stores_a_retried_submission_once(
    client: TestClient, token: str
) -> None:
    body = {"answers": {"visits_libraries": "often"}}
    url = f"{API}/responses"
    first = client.post(url, json=body, headers={"Idempotency-Key": "retry-1"})
    again = client.post(url, json=body, headers={"Idempotency-Key": "retry-1"})
    other = client.post(url, json=body, headers={"Idempotency-Key": "retry-2"})
    plain = client.post(url, json=body)
    assert first.status_code == again.status_code == other.status_code == plain.status_code == 201
    assert again.json() == first.json()
    assert len({first.json()["id"], other.json()["id"], plain.json()["id"]}) == 3
    assert len(rows(export(client, token).text)) == 3
    bad = client.post(url, json=body, headers={"Idempotency-Key": "x" * 201})
    assert bad.status_code == 422
    assert "_idempotency_key" in bad.json()["errors"]


def test_the_formula_rule_holds_when_a_text_question_becomes_a_number(
    client: TestClient, token: str, database: Database
) -> None:
    load(
        database,
        definition_from(
            "slug: turned\ntitle: T\nquestions:\n  - {key: n, type: short_text, label: N}\n"
        ),
    )
    attack = '=HYPERLINK("http://evil.example","click")'
    post = client.post("/api/surveys/turned/responses", json={"answers": {"n": attack}})
    assert post.status_code == 201
    load(
        database,
        definition_from(
            "slug: turned\ntitle: T\nquestions:\n  - {key: n, type: number, label: N}\n"
        ),
    )
    assert (
        client.post("/api/surveys/turned/responses", json={"answers": {"n": -3}}).status_code == 201
    )
    export = client.get(
        "/api/surveys/turned/responses.csv", headers={"Authorization": f"Bearer {token}"}
    )
    cells = [row[-1] for row in csv.reader(io.StringIO(export.text))][1:]
    assert cells == ["'" + attack, "-3"]


def test_an_idempotency_key_sent_again_with_other_answers_is_refused(
    client: TestClient, database: Database
) -> None:
    url = f"{API}/responses"
    key = {"Idempotency-Key": "order-42"}
    first = client.post(url, json={"answers": {"visits_libraries": "often"}}, headers=key)
    retry = client.post(url, json={"answers": {"visits_libraries": "often"}}, headers=key)
    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    other = client.post(url, json={"answers": {"visits_libraries": "sometimes"}}, headers=key)
    assert other.status_code == 422
    assert "_idempotency_key" in other.json()["errors"]
    with database.session() as session:
        count = session.execute(sa.text("SELECT count(*) FROM response")).scalar_one()
    assert count == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"answers": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", "nested too deeply"),
        (b'{"answers": {"visits_libraries": ' + b"9" * 5000 + b"}}", "number too long"),
    ],
)
def test_bodies_built_to_break_the_parser_are_a_422(
    client: TestClient, body: bytes, message: str
) -> None:
    answer = client.post(
        f"{API}/responses", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert message in answer.json()["errors"]["_body"]


def test_a_nul_character_is_a_4xx_everywhere(client: TestClient, token: str) -> None:
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/responses.csv?source=a%00b", headers=bearer).status_code == 422
