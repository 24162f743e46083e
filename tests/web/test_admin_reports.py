"""The summary page and the downloads (CSV, JSON Lines, Excel) of the staff
workspace, read back with the csv module, json and openpyxl, on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from survey.db import Database
from tests.helpers import ADMIN_EMAIL, add_response, create_staff, sign_in

SLUG = "libraries-abroad"
SUMMARY = f"/admin/surveys/{SLUG}/summary"
DOWNLOAD = f"/admin/surveys/{SLUG}/download"


@pytest.fixture
def admin(client: TestClient, database: Database) -> TestClient:
    create_staff(database, ADMIN_EMAIL, "admin")
    assert sign_in(client, ADMIN_EMAIL).status_code == 303
    return client


@pytest.fixture
def answered(database: Database) -> list[int]:
    """Four responses with known answers."""
    return [
        add_response(
            database,
            answers={
                "visits_libraries": "often",
                "lessons": "Story time outdoors",
                "international_member": "yes",
                "based_in": "CA",
                "resources": ["webinars", "booklists"],
                "email": "a@example.org",
                "quote_consent": True,
            },
        ),
        add_response(
            database,
            answers={
                "visits_libraries": "often",
                "international_member": "yes",
                "based_in": "SA",
                "resources": ["webinars", "other"],
                "resources_other": '=HYPERLINK("http://evil.example")',
            },
        ),
        add_response(
            database,
            answers={"visits_libraries": "sometimes", "lessons": "Maker spaces", "resources": []},
        ),
        add_response(
            database, answers={"visits_libraries": "not_yet", "international_member": "no"}
        ),
    ]


def tables(response: Any) -> dict[str, dict[str, tuple[str, str]]]:
    """Per question heading, its table as answer -> (people, percent)."""
    shown = BeautifulSoup(response.text, "html.parser")
    found = {}
    for section in shown.select(".question-summary"):
        rows = {
            tr.th.get_text(): (tr.select("td")[0].get_text(), tr.select("td")[1].get_text())
            for tr in section.select("tbody tr")
        }
        found[section.h2.get_text()] = rows
    return found


def test_the_summary_counts_every_choice_question(admin: TestClient, answered: list[int]) -> None:
    response = admin.get(SUMMARY)
    assert response.status_code == 200
    found = tables(response)
    assert found["Are you visiting other libraries when you go on vacation?"] == {
        "Yes, whenever I can": ("2", "50.0%"),
        "Sometimes": ("1", "25.0%"),
        "Not yet": ("1", "25.0%"),
    }
    # Percentages are of those who answered the question (3 of 4 here).
    assert found["Are you an international member?"] == {
        "Yes": ("2", "66.7%"),
        "No": ("1", "33.3%"),
    }
    # Only the countries someone chose, most chosen first.
    assert set(found["Where are you based?"]) == {"Canada", "Saudi Arabia"}
    resources = found["How have you been using our resources?"]
    assert resources["Webinars and online learning"] == ("2", "66.7%")
    assert resources["Booklists and awards"] == ("1", "33.3%")
    assert resources["Other"] == ("1", "33.3%")
    assert resources["Toolkits and program ideas"] == ("0", "0.0%")
    # An unticked box is an answer too (#16): 1 of 4 agreed, not 100%.
    assert found["You may quote my answers on the ALSC blog."] == {"Agreed": ("1", "25.0%")}
    consent = BeautifulSoup(response.text, "html.parser").select_one(
        "#summary-quote_consent + .hint"
    )
    assert consent is not None
    assert consent.get_text(strip=True) == "1 of 4 (25.0%) agreed."
    shown = BeautifulSoup(response.text, "html.parser")
    assert "Summary of 4 responses" in shown.select_one(".result-count").get_text()


def test_the_summary_draws_accessible_svg_charts_and_lists_text_answers(
    admin: TestClient, answered: list[int]
) -> None:
    shown = BeautifulSoup(admin.get(SUMMARY).text, "html.parser")
    chart = shown.select_one('section[aria-labelledby="summary-visits_libraries"] svg')
    assert chart["role"] == "img"
    title = chart.find("title")
    assert title["id"] == chart["aria-labelledby"]
    assert "visiting other libraries" in title.get_text()
    widths = [float(rect["width"]) for rect in chart.select("rect")]
    assert widths == [240.0, 120.0, 120.0]  # 50%, 25%, 25% of 480
    lessons = shown.select_one('section[aria-labelledby="summary-lessons"]')
    assert [q.get_text() for q in lessons.select("blockquote")] == [
        "Maker spaces",
        "Story time outdoors",
    ]
    assert "2 of 4 answered" in lessons.get_text()
    every = lessons.find("a", string="Every answer to this question, in the responses table")
    assert every["href"] == f"/admin/surveys/{SLUG}/responses?col=lessons"
    # A choice's "Other" texts are listed under it, not only on each response.
    resources = shown.select_one('section[aria-labelledby="summary-resources"]')
    assert [q.get_text() for q in resources.select("blockquote")] == [
        '=HYPERLINK("http://evil.example")'
    ]
    assert "Latest “Other” answers" in resources.get_text()
    assert not shown.find("script", src=lambda s: s and "chart" in s)  # no chart library


def test_the_summary_respects_the_filters(admin: TestClient, answered: list[int]) -> None:
    found = tables(admin.get(f"{SUMMARY}?f.international_member=yes"))
    assert found["Are you visiting other libraries when you go on vacation?"][
        "Yes, whenever I can"
    ] == ("2", "100.0%")
    found = tables(admin.get(f"{SUMMARY}?q=maker"))
    assert found["Are you visiting other libraries when you go on vacation?"]["Sometimes"] == (
        "1",
        "100.0%",
    )


def rows_of_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_download_honours_the_filters(admin: TestClient, answered: list[int]) -> None:
    response = admin.get(f"{DOWNLOAD}?format=csv&f.visits_libraries=often")
    assert (
        'attachment; filename="libraries-abroad-responses-'
        in response.headers["content-disposition"]
    )
    rows = rows_of_csv(response)
    assert [int(r["response_id"]) for r in rows] == answered[:2]
    # The cell starts with "webinars": nothing to defuse; the own column is (below).
    assert rows[1]["resources"] == 'webinars; other: =HYPERLINK("http://evil.example")'
    labelled = rows_of_csv(admin.get(f"{DOWNLOAD}?format=csv&header=labels&bom=true"))
    assert "Are you an international member?" in labelled[0]
    assert admin.get(f"{DOWNLOAD}?format=csv&bom=true").content.startswith(b"\xef\xbb\xbf")


def test_csv_download_with_a_column_per_option(admin: TestClient, answered: list[int]) -> None:
    rows = rows_of_csv(admin.get(f"{DOWNLOAD}?format=csv&multi=columns"))
    first, second, third, fourth = rows
    assert first["resources"] == "webinars; booklists"
    assert (
        first["resources.webinars"],
        first["resources.booklists"],
        first["resources.journal"],
    ) == ("1", "1", "0")
    assert second["resources_other"] == '\'=HYPERLINK("http://evil.example")'  # defused
    assert third["resources.webinars"] == "0"  # answered with nothing ticked
    assert fourth["resources.webinars"] == ""  # never shown the question
    assert list(first)[:4] == ["response_id", "submitted_at", "survey_version", "source"]


def test_xlsx_download_reads_back_with_openpyxl(admin: TestClient, answered: list[int]) -> None:
    response = admin.get(f"{DOWNLOAD}?format=xlsx&multi=columns&f.international_member=yes")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header, *data = rows
    assert header[:4] == ["response_id", "submitted_at (UTC)", "survey_version", "source"]
    assert [r[0] for r in data] == answered[:2]
    by_name = [dict(zip(header, r, strict=True)) for r in data]
    assert by_name[0]["based_in"] == "CA"
    assert by_name[0]["resources.webinars"] == 1
    # Text as typed, no visible apostrophe: Excel's quote prefix marks it as text.
    other = header.index("resources_other") + 1
    assert by_name[1]["resources_other"] == '=HYPERLINK("http://evil.example")'
    assert sheet.cell(row=3, column=other).quotePrefix
    assert sheet.cell(row=3, column=other).data_type == "s"
    assert by_name[0]["submitted_at (UTC)"].year >= 2026  # a real date cell, not text
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(row=1, column=len(header)).column_letter}3"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 18


def test_downloads_default_to_question_text_and_answer_labels(
    admin: TestClient, answered: list[int]
) -> None:
    form = BeautifulSoup(admin.get(f"/admin/surveys/{SLUG}/responses").text, "html.parser")
    download = form.select_one("form.download")
    # At the top: before the table of responses.
    assert form.select_one("form.download, table").name == "form"
    sent = {
        field["name"]: field.get("value")
        for field in download.select("input[type=checkbox][checked], select option[selected]")
        if field.get("name")
    }
    chosen = {
        select["name"]: select.select_one("option[selected]")["value"]
        for select in download.select("select")
        if select.select_one("option[selected]")
    }
    assert chosen == {"header": "labels", "values": "labels"}
    assert sent == {"bom": "true"}
    csv_text = admin.get(f"{DOWNLOAD}?format=csv&header=labels&values=labels&bom=true").text
    assert csv_text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
    first = rows[0]
    assert first["Are you visiting other libraries when you go on vacation?"] == (
        "Yes, whenever I can"
    )
    assert first["Where are you based?"] == "Canada"
    assert first["How have you been using our resources?"] == (
        "Webinars and online learning; Booklists and awards"
    )
    # "Other" with its text, and the text still defused in a CSV cell.
    assert rows[1]["How have you been using our resources?"] == (
        'Webinars and online learning; Other: =HYPERLINK("http://evil.example")'
    )
    workbook = admin.get(f"{DOWNLOAD}?format=xlsx&values=labels").content
    sheet = load_workbook(io.BytesIO(workbook)).active
    header, first_row, *_ = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert dict(zip(header, first_row, strict=True))["based_in"] == "Canada"
    # Codes stay available, and stay the default of a bare address (scripts).
    coded = list(csv.DictReader(io.StringIO(admin.get(f"{DOWNLOAD}?format=csv").text)))
    assert coded[0]["based_in"] == "CA"


def test_jsonl_download_keeps_answers_exactly(admin: TestClient, answered: list[int]) -> None:
    response = admin.get(f"{DOWNLOAD}?format=jsonl")
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["response_id"] for line in lines] == answered
    assert lines[1]["answers"]["resources_other"] == '=HYPERLINK("http://evil.example")'
    assert lines[0]["answers"]["quote_consent"] is True


def test_a_bad_download_option_is_a_clear_error(admin: TestClient, answered: list[int]) -> None:
    assert admin.get(f"{DOWNLOAD}?format=pdf").status_code == 400
    assert admin.get(f"{DOWNLOAD}?since=soon").status_code == 422


def test_staff_pages_speak_the_browser_language(admin: TestClient, answered: list[int]) -> None:
    french = admin.get(SUMMARY, headers={"Accept-Language": "fr-CA, en;q=0.5"})
    shown = BeautifulSoup(french.text, "html.parser")
    assert shown.html["lang"] == "fr"
    assert [a.get_text() for a in shown.select(".staff-nav a")][:2] == [
        "Questionnaires",
        "Utilisateurs",
    ]
    assert shown.select_one(".result-count").get_text() == "Synthèse de 4 réponses"
    # Numbers as the locale writes them (Babel): a decimal comma in French.
    # The survey's own texts in French too, where the survey has them.
    first = tables(french)["Visitez-vous d’autres bibliothèques quand vous partez en vacances ?"]
    assert first["Oui, dès que je peux"] == ("2", "50,0%")
    arabic = BeautifulSoup(
        admin.get(f"/admin/surveys/{SLUG}/responses", headers={"Accept-Language": "ar"}).text,
        "html.parser",
    )
    assert arabic.html["dir"] == "rtl"
    assert arabic.select_one(".result-count").get_text() == "4 إجابة"
    sent = arabic.select_one("tbody time")
    assert sent.get_text().endswith(" UTC")
    assert sent["datetime"].endswith("Z")
