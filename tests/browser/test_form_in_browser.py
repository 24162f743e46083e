"""What a member does in a real browser: answer, make a mistake, fix it, finish."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

from tests.helpers import Server


def test_member_answers_corrects_an_error_and_sees_thanks(page, live_server: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/s/libraries-abroad")
    lessons = page.locator('[data-question="lessons"]')
    based_in = page.locator('[data-question="based_in"]')
    # With JavaScript, questions that do not apply yet are hidden.
    assert lessons.is_hidden()
    assert based_in.is_hidden()

    page.get_by_role("button", name="Send answers").click()
    page.wait_for_url("**/s/libraries-abroad")
    assert page.title().startswith("Error: ")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    # The summary takes focus, and its link takes the person to the field.
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    summary.get_by_role("link", name="Choose an option").click()
    assert page.evaluate("document.activeElement.id") == "visits_libraries"

    page.get_by_label("Sometimes").check()
    assert lessons.is_visible()
    page.get_by_label("What are you learning?").fill("Reading dens in Halifax")
    page.locator("#international_member").check()  # "Yes"
    assert based_in.is_visible()
    page.get_by_label("Where are you based?").select_option("CA")
    page.get_by_label("Webinars and online learning").check()
    page.get_by_role("button", name="Send answers").click()
    page.wait_for_url("**/s/libraries-abroad/thanks")
    assert "Your answers have been sent" in page.locator("h1").inner_text()

    exported = subprocess.run(
        [str(Path(sys.executable).with_name("survey")), "export", "libraries-abroad"],
        env={"SURVEY_DATABASE_URL": live_server.env["SURVEY_DATABASE_URL"]},
        capture_output=True,
        check=True,
    ).stdout.decode()
    [row] = list(csv.DictReader(io.StringIO(exported)))
    assert row["visits_libraries"] == "sometimes"
    assert row["lessons"] == "Reading dens in Halifax"
    assert row["based_in"] == "CA"
    assert row["resources"] == "webinars"
