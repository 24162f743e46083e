"""What a librarian does in the staff workspace, in a real browser against
`survey serve`: sign in, filter, open a response, download each format and
read it back, delete a response, erase a person's answers."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.helpers import STAFF_PASSWORD, Server

SURVEY = str(Path(sys.executable).with_name("survey"))


def _survey(server: Server, *args: str, stdin: str = "") -> str:
    return subprocess.run(
        [SURVEY, *args],
        env={"SURVEY_DATABASE_URL": server.env["SURVEY_DATABASE_URL"]},
        input=stdin.encode(),
        capture_output=True,
        check=True,
    ).stdout.decode()


def _answer(page, server: Server, visits: str, lessons: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/s/libraries-abroad")
    page.get_by_label(visits).check()
    page.get_by_label("What are you learning?").fill(lessons)
    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Send answers").click()
    page.wait_for_url("**/thanks")


@pytest.fixture
def answered(page, live_server: Server) -> Server:  # type: ignore[no-untyped-def]
    _answer(page, live_server, "Yes, whenever I can", "Reading dens", "ana@example.org")
    _answer(page, live_server, "Sometimes", "<b>Maker</b> spaces", "ben@example.org")
    _answer(page, live_server, "Sometimes", "Quiet rooms", "Ana@Example.org")
    _survey(
        live_server,
        "user",
        "create",
        "librarian@example.org",
        "--role",
        "admin",
        "--password-stdin",
        stdin=STAFF_PASSWORD + "\n",
    )
    return live_server


def _sign_in(page, server: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/admin")
    page.wait_for_url("**/admin/login?next=/admin")
    page.get_by_label("Email address").fill("librarian@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/admin")


def test_librarian_filters_reads_and_downloads(page, answered: Server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, answered)
    assert page.get_by_role("cell", name="3", exact=True).first.is_visible()
    page.get_by_role("link", name="Libraries Abroad").click()
    assert "3 responses" in page.locator(".result-count").inner_text()

    page.get_by_text("Filter responses", exact=True).first.click()  # folded away until used
    filters = page.get_by_role("search", name="Filter responses")
    filters.get_by_label("Are you visiting other libraries when you go on vacation?").select_option(
        "sometimes"
    )
    page.get_by_role("button", name="Apply filters").click()
    assert "2 responses match the filters" in page.locator(".result-count").inner_text()
    # The hostile-looking answer is text, not markup.
    assert page.get_by_text("<b>Maker</b> spaces").is_visible()

    downloads = {}
    for value in ("csv", "xlsx", "jsonl"):
        page.get_by_label("Format").select_option(value)
        with page.expect_download() as info:
            page.get_by_role("button", name="Download").click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        downloads[value] = target
    # As the form starts: the question text, the answers' labels, a byte-order mark.
    text = downloads["csv"].read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert sorted(r["What are you learning?"] for r in rows) == [
        "<b>Maker</b> spaces",
        "Quiet rooms",
    ]
    visits = "Are you visiting other libraries when you go on vacation?"
    assert {r[visits] for r in rows} == {"Sometimes"}
    sheet = load_workbook(downloads["xlsx"], read_only=True).active
    assert sheet.max_row == 3  # header and the two filtered responses
    lines = downloads["jsonl"].read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["answers"]["visits_libraries"] for line in lines} == {"sometimes"}

    page.get_by_role("link", name="Summary").click()
    assert (
        "Summary of 2 responses that match the filters"
        in page.locator(".result-count").inner_text()
    )
    assert page.locator("svg.bar-chart").first.is_visible()


def test_librarian_deletes_one_response_and_erases_a_person(page, answered: Server) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, answered)
    page.goto(f"{answered.url}/admin/surveys/libraries-abroad/responses")
    page.get_by_role("link", name="#2").click()
    assert page.get_by_text("<b>Maker</b> spaces").is_visible()
    page.get_by_role("link", name="Delete response #2").click()  # a step to confirm (#16)
    assert page.get_by_role("heading", name="Delete response #2?").is_visible()
    page.get_by_role("button", name="Delete response #2").click()
    assert page.get_by_text("Response 2 was deleted.").is_visible()
    assert "2 responses" in page.locator(".result-count").inner_text()

    page.get_by_role("link", name="Erase a person's answers").click()
    page.get_by_label("Their email address").fill("ana@example.org")
    page.get_by_role("button", name="Find their responses").click()
    assert "2 responses sent with this email address will be deleted" in page.inner_text("main")
    page.get_by_role("button", name="Erase 2 responses").click()
    assert page.get_by_text("2 responses were erased.").is_visible()
    exported = _survey(answered, "export", "libraries-abroad")
    assert list(csv.DictReader(io.StringIO(exported))) == []

    page.get_by_role("link", name="Audit trail").click()
    actions = page.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert actions[:3] == ["erase", "delete response", "sign in"]


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_summary_charts_keep_their_labels_inside_and_off_the_bars(  # type: ignore[no-untyped-def]
    chromium_browser, answered: Server, lang: str
) -> None:
    context = chromium_browser.new_context(locale=lang)
    page = context.new_page()
    try:
        page.goto(f"{answered.url}/admin/login")
        page.locator("#email").fill("librarian@example.org")
        page.locator("#password").fill(STAFF_PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{answered.url}/admin")
        page.goto(f"{answered.url}/admin/surveys/libraries-abroad/summary")
        problems = page.evaluate(
            """() => {
              const found = [];
              for (const svg of document.querySelectorAll('svg.bar-chart')) {
                const width = svg.viewBox.baseVal.width;
                const texts = [...svg.querySelectorAll('text')];
                const bars = [...svg.querySelectorAll('rect.bar')];
                for (const text of texts) {
                  const box = text.getBBox();
                  if (box.x < -2 || box.x + box.width > width + 2)
                    found.push(`outside: ${text.textContent} ${box.x} ${box.width}`);
                }
                // Each percentage sits beside its bar, not over it.
                svg.querySelectorAll('text.bar-value').forEach((text, i) => {
                  const value = text.getBBox(), bar = bars[i].getBBox();
                  const overlaps = value.x < bar.x + bar.width - 0.5
                    && value.x + value.width > bar.x + 0.5;
                  if (bar.width > 0 && overlaps)
                    found.push(`over its bar: ${text.textContent}`);
                });
              }
              return found;
            }"""
        )
        assert page.locator("svg.bar-chart").count() >= 3
        assert problems == []
        assert page.locator("html").get_attribute("lang") == lang
        if lang == "ar":  # the survey's own Arabic texts, not the English ones
            assert "مكتبات في الخارج" in page.locator("h1").inner_text()
    finally:
        context.close()
