"""The matrix kind end to end, on SQLite and PostgreSQL: the file, the form
without JavaScript, the JSON API, the exports, the summary and the filters."""

from __future__ import annotations

import csv
import io
import json

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from survey.answers import InvalidAnswers, clean_form, clean_json
from survey.db import Database
from survey.definitions import DefinitionError, SurveyDefinition
from tests.helpers import definition_from, post_form, stored_answers
from tests.questions.conftest import SLUG

FORM = f"/s/{SLUG}"


def test_rows_and_columns_may_be_plain_labels() -> None:
    definition = definition_from(
        "slug: s\ntitle: T\nquestions:\n  - {key: m, type: matrix, label: L,"
        " rows: [Books, Events], columns: [Agree, Disagree]}\n"
    )
    [question] = definition.questions
    assert [r.value for r in question.rows] == ["books", "events"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("rows: [{value: 'a.b', label: A}], columns: [X, Y]", "may only hold letters"),
        ("rows: [A], columns: [X]", "columns"),
        ("rows: [], columns: [X, Y]", "rows"),
    ],
)
def test_bad_grids_are_refused_with_the_reason(fields: str, message: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        definition_from(
            f"slug: s\ntitle: T\nquestions:\n  - {{key: m, type: matrix, label: L, {fields}}}\n"
        )
    assert message in str(caught.value)


def test_required_means_every_row(grid: SurveyDefinition) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        clean_form(grid, {"programmes.story_time": ["very"]})
    assert "Maker space" in caught.value.errors["programmes"]
    with pytest.raises(InvalidAnswers) as nothing:
        clean_form(grid, {})
    assert nothing.value.errors["programmes"] == "Answer every row"
    with pytest.raises(InvalidAnswers) as wrong:
        clean_json(grid, {"programmes": {"story_time": "very", "maker": "loud"}})
    assert "Choose one of the options" in wrong.value.errors["programmes"]
    answers = clean_json(grid, {"programmes": {"maker": "not", "story_time": "very"}})
    assert answers == {"programmes": {"story_time": "very", "maker": "not"}}


def test_the_form_has_one_fieldset_per_row_and_keeps_answers_after_an_error(
    client: TestClient, grid: SurveyDefinition
) -> None:
    page = BeautifulSoup(client.get(FORM).text, "html.parser")
    rows = page.select("fieldset.matrix__row")
    assert [r.legend.get_text(strip=True) for r in rows] == ["Story time", "Maker space"]
    assert [i["value"] for i in rows[0].select("input[type=radio]")] == ["not", "some", "very"]
    assert page.select_one("#programmes")["name"] == "programmes.story_time"

    again = post_form(client, FORM, {"programmes.maker": "some"})
    assert again.status_code == 422
    page = BeautifulSoup(again.text, "html.parser")
    assert page.select_one('input[name="programmes.maker"][value="some"]').has_attr("checked")
    summary = page.select_one("[data-error-summary] a")
    assert summary["href"] == "#programmes"
    assert "Story time" in summary.get_text()


def test_form_and_api_store_the_same_answer(
    client: TestClient, grid: SurveyDefinition, database: Database
) -> None:
    sent = post_form(
        client,
        FORM,
        {"programmes.story_time": "very", "programmes.maker": "not", "priorities.hours": "1"},
    )
    assert sent.status_code == 303
    api = client.post(
        f"/api/surveys/{SLUG}/responses",
        json={
            "answers": {
                "programmes": {"story_time": "very", "maker": "not"},
                "priorities": ["hours"],
            }
        },
    )
    assert api.status_code == 201, api.text
    first, second = stored_answers(database)
    assert (
        first
        == second
        == {
            "programmes": {"story_time": "very", "maker": "not"},
            "priorities": ["hours"],
        }
    )
    schema = client.get(f"/api/surveys/{SLUG}").json()
    assert schema["questions"][0]["rows"][0] == {"value": "story_time", "label": "Story time"}


def test_exports_have_a_column_per_row_and_the_summary_counts_each_row(
    admin: TestClient, database: Database
) -> None:
    for story, maker in [("very", "not"), ("very", "some"), ("some", "some")]:
        answers = {"programmes": {"story_time": story, "maker": maker}}
        assert (
            admin.post(f"/api/surveys/{SLUG}/responses", json={"answers": answers}).status_code
            == 201
        )

    text = admin.get(f"/admin/surveys/{SLUG}/download?format=csv").text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["programmes.story_time"] for r in rows] == ["very", "very", "some"]
    assert [r["programmes.maker"] for r in rows] == ["not", "some", "some"]
    labels = admin.get(f"/admin/surveys/{SLUG}/download?format=csv&header=labels").text
    assert "How useful were these?: Maker space" in labels.splitlines()[0]

    lines = admin.get(f"/admin/surveys/{SLUG}/download?format=jsonl").text.splitlines()
    assert json.loads(lines[0])["answers"]["programmes"] == {"story_time": "very", "maker": "not"}

    book = load_workbook(
        io.BytesIO(admin.get(f"/admin/surveys/{SLUG}/download?format=xlsx").content)
    )
    sheet = list(book.active.iter_rows(values_only=True))
    header = list(sheet[0])
    assert sheet[1][header.index("programmes.maker")] == "not"

    summary = BeautifulSoup(admin.get(f"/admin/surveys/{SLUG}/summary").text, "html.parser")
    section = summary.select_one('section[aria-labelledby="summary-programmes"]')
    tables = section.select("table")
    story = {r.th.get_text(): r.select("td")[0].get_text() for r in tables[0].select("tbody tr")}
    assert story == {"Not useful": "0", "Somewhat useful": "1", "Very useful": "2"}

    filtered = admin.get(f"/admin/surveys/{SLUG}/download?format=csv&f.programmes.maker=some").text
    assert len(list(csv.DictReader(io.StringIO(filtered, newline="")))) == 2
    page = admin.get(f"/admin/surveys/{SLUG}/responses?f.programmes.story_time=very")
    assert "2 responses" in BeautifulSoup(page.text, "html.parser").get_text(" ")
    bad = admin.get(f"/admin/surveys/{SLUG}/responses?f.programmes.maker=loud")
    assert bad.status_code == 422
