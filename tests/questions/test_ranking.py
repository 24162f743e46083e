"""The ranking kind end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from survey.answers import InvalidAnswers, clean_form, clean_json
from survey.definitions import SurveyDefinition
from tests.helpers import post_form
from tests.questions.conftest import SLUG

FORM = f"/s/{SLUG}"
REQUIRED_GRID = {"programmes.story_time": ["very"], "programmes.maker": ["some"]}


def test_ranks_become_an_ordered_list(grid: SurveyDefinition) -> None:
    answers = clean_form(
        grid, {**REQUIRED_GRID, "priorities.events": ["1"], "priorities.books": ["2"]}
    )
    assert answers["priorities"] == ["events", "books"]
    with pytest.raises(InvalidAnswers) as same:
        clean_form(grid, {**REQUIRED_GRID, "priorities.events": ["1"], "priorities.books": ["1"]})
    assert same.value.errors["priorities"] == "Give each rank to one option only"
    with pytest.raises(InvalidAnswers) as high:
        clean_form(grid, {**REQUIRED_GRID, "priorities.events": ["3"]})
    assert high.value.errors["priorities"] == "Choose a rank from 1 to 2"
    grid_json = {"programmes": {"story_time": "very", "maker": "some"}}
    with pytest.raises(InvalidAnswers) as many:
        clean_json(grid, {**grid_json, "priorities": ["books", "hours", "events"]})
    assert many.value.errors["priorities"] == "Rank at most 2 options"
    with pytest.raises(InvalidAnswers) as twice:
        clean_json(grid, {**grid_json, "priorities": ["books", "books"]})
    assert twice.value.errors["priorities"] == "Give each rank to one option only"


def test_the_form_has_a_select_of_ranks_per_option(
    client: TestClient, grid: SurveyDefinition
) -> None:
    page = BeautifulSoup(client.get(FORM).text, "html.parser")
    selects = page.select("[data-ranking] select")
    assert [s["name"] for s in selects] == [
        "priorities.books",
        "priorities.hours",
        "priorities.events",
    ]
    assert [o["value"] for o in selects[0].select("option")] == ["", "1", "2"]
    assert page.select_one('label[for="priorities"]').get_text() == "More books"


def test_export_summary_and_first_choice_filter(admin: TestClient) -> None:
    grid_answer = {"story_time": "very", "maker": "some"}
    for order in (["events", "books"], ["events"], ["books", "hours"]):
        sent = {"programmes": grid_answer, "priorities": order}
        assert (
            admin.post(f"/api/surveys/{SLUG}/responses", json={"answers": sent}).status_code == 201
        )
    sent = post_form(admin, FORM, {"programmes.story_time": "not", "programmes.maker": "not"})
    assert sent.status_code == 303

    text = admin.get(f"/admin/surveys/{SLUG}/download?format=csv").text
    cells = [r["priorities"] for r in csv.DictReader(io.StringIO(text, newline=""))]
    assert cells == ["events; books", "events", "books; hours", ""]

    summary = BeautifulSoup(admin.get(f"/admin/surveys/{SLUG}/summary").text, "html.parser")
    section = summary.select_one('section[aria-labelledby="summary-priorities"]')
    lines = [[c.get_text() for c in r.select("th, td")] for r in section.select("tbody tr")]
    assert lines == [
        ["=Events", "1", "2", "2"],
        ["More books", "1.5", "1", "2"],
        ["Longer hours", "2", "0", "1"],
    ]

    first = admin.get(f"/admin/surveys/{SLUG}/download?format=csv&f.priorities=events").text
    assert len(list(csv.DictReader(io.StringIO(first, newline="")))) == 2
    one = BeautifulSoup(admin.get(f"/admin/surveys/{SLUG}/responses/1").text, "html.parser")
    assert "1. =Events; 2. More books" in one.get_text()
