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


def test_the_other_box_is_red_only_for_its_own_problem(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "surveys"
    folder.mkdir()
    (folder / "picks.yaml").write_text(
        "slug: picks\ntitle: Picks\nquestions:\n"
        "  - key: picks\n    type: multiple_choice\n    label: Pick up to one\n"
        "    required: true\n    max_choices: 1\n    allow_other: true\n"
        "    options: [Books, Films]\n",
        encoding="utf-8",
    )
    survey = str(Path(sys.executable).with_name("survey"))
    server = Server(
        [survey],
        {
            "SURVEY_DATABASE_URL": f"sqlite:///{tmp_path / 'survey.db'}",
            "SURVEY_DEFINITIONS_DIR": str(folder),
        },
    )
    server.wait_ready()
    try:
        border = "e => getComputedStyle(e).borderTopColor"
        page.goto(f"{server.url}/s/picks")
        # The group's own problem (two picks): the group is marked, the box is not.
        page.get_by_label("Books").check()
        page.get_by_label("Films").check()
        page.get_by_role("button", name="Send answers").click()
        page.locator(".error-summary").wait_for()
        group = page.eval_on_selector("#picks_other", "e => e.closest('.question--error') !== null")
        assert group  # it sits inside the group that has the problem...
        normal = page.eval_on_selector("#picks_other", border)
        assert page.get_attribute("#picks_other", "aria-invalid") is None
        # ...and it is not red: its own problem (Other ticked, no text) makes it red.
        page.get_by_label("Books").uncheck()
        page.get_by_label("Films").uncheck()
        page.get_by_role("checkbox", name="Other").check()
        page.get_by_role("button", name="Send answers").click()
        page.locator("#picks_other-error").wait_for()
        red = page.eval_on_selector("#picks_other", border)
        assert page.get_attribute("#picks_other", "aria-invalid") == "true"
        assert red != normal
    finally:
        server.stop()
