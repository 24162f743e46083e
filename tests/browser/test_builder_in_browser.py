"""The builder in a real browser, with JavaScript and without: a survey made
from the project's seed post, edited, previewed, published, answered until
it is full, edited again into a new version, and downloaded as its file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from survey.definitions import parse_definition
from tests.helpers import STAFF_PASSWORD, Server

SURVEY = str(Path(sys.executable).with_name("survey"))
POST = Path(__file__).parents[1] / "data" / "posts" / "libraries-abroad-post.txt"
SLUG = "abroad-readers"


def _staff(server: Server) -> None:
    subprocess.run(
        [SURVEY, "user", "create", "editor@example.org", "--role", "admin", "--password-stdin"],
        env={"SURVEY_DATABASE_URL": server.env["SURVEY_DATABASE_URL"]},
        input=(STAFF_PASSWORD + "\n").encode(),
        capture_output=True,
        check=True,
    )


def _answer(page, server: Server, option: str) -> int:  # type: ignore[no-untyped-def]
    response = page.goto(f"{server.url}/s/{SLUG}")
    if response.status != 200:
        return int(response.status)
    page.get_by_label(option, exact=True).check()
    page.get_by_role("button", name="Send answers").click()
    page.wait_for_url("**/thanks")
    return 200


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_post_becomes_a_published_survey_in_the_builder(  # type: ignore[no-untyped-def]
    chromium_browser, live_server: Server, tmp_path: Path, javascript: bool
) -> None:
    _staff(live_server)
    context = chromium_browser.new_context(java_script_enabled=javascript, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin")
        page.get_by_label("Email address").fill("editor@example.org")
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="New survey").click()

        # Start from the post: its four closing prompts become the draft.
        page.get_by_label("Or paste the post (its text or HTML)").fill(
            POST.read_text(encoding="utf-8")
        )
        page.locator("#post_slug").fill(SLUG)
        page.get_by_role("button", name="Make a draft from the post").click()
        page.wait_for_url(f"**/admin/surveys/{SLUG}/edit")
        assert page.locator(".builder-question").count() == 4

        # A multiple choice with "Other".
        page.get_by_label("Add a question of this kind").select_option(
            label="Several choices from a list"
        )
        page.get_by_role("button", name="Add question").click()
        page.locator('[id="label.en"]').fill("Which resources do you use?")
        page.locator('[id="options.new.0.label.en"]').fill("Webinars")
        page.locator('[id="options.new.1.label.en"]').fill("Booklists")
        page.get_by_label("Offer “Other”, with a box to write in").check()
        page.get_by_role("button", name="Save question").click()
        page.wait_for_url(f"**/admin/surveys/{SLUG}/edit?saved=*")
        # A rating.
        page.get_by_label("Add a question of this kind").select_option(label="Rating scale")
        page.get_by_role("button", name="Add question").click()
        page.locator('[id="label.en"]').fill("How useful is the blog?")
        page.get_by_label("Points on the scale (2 to 10)").fill("5")
        page.get_by_role("button", name="Save question").click()
        page.wait_for_url(f"**/admin/surveys/{SLUG}/edit?saved=*")
        assert page.locator(".builder-question").count() == 6
        # At most two responses.
        page.get_by_label("Most responses to take").fill("2")
        page.get_by_role("button", name="Save settings").click()
        page.wait_for_url(f"**/admin/surveys/{SLUG}/edit?saved=*")

        # Preview, as a reader would see it; nothing can be sent from there.
        page.get_by_role("link", name="Preview").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Libraries Abroad"
        assert page.get_by_text("Which resources do you use?").is_visible()
        assert page.locator("form[method=post]").count() == 0
        page.get_by_role("link", name="Back to the draft").click()

        page.get_by_role("button", name="Publish").click()
        page.wait_for_url(f"**/admin/surveys/{SLUG}?published=*")
        assert page.get_by_text("Published. Readers can answer it now.").is_visible()

        reader = context.browser.new_context(java_script_enabled=javascript)
        try:
            assert _answer(reader.new_page(), live_server, "Webinars") == 200
            assert _answer(reader.new_page(), live_server, "Booklists") == 200
            third = reader.new_page()
            assert _answer(third, live_server, "Webinars") == 410
            assert "has all the answers it needs" in third.content()
        finally:
            reader.close()

        # Edited again: one more question makes version 2.
        page.goto(f"{live_server.url}/admin/surveys/{SLUG}")
        assert "Full" in page.locator(".summary-list").inner_text()
        page.get_by_role("button", name="Edit the survey").click()
        page.get_by_label("Add a question of this kind").select_option(label="Short text")
        page.get_by_role("button", name="Add question").click()
        page.locator('[id="label.en"]').fill("Which library is yours?")
        page.get_by_role("button", name="Save question").click()
        page.wait_for_url(f"**/admin/surveys/{SLUG}/edit?saved=*")
        page.get_by_role("button", name="Publish").click()
        page.wait_for_url(f"**/admin/surveys/{SLUG}?published=*")
        assert page.get_by_text("Published as version 2.").is_visible()

        with page.expect_download() as download:
            page.get_by_role("link", name="Download the survey file (YAML)").click()
        saved = tmp_path / "survey.yaml"
        download.value.save_as(saved)
    finally:
        context.close()
    definition = parse_definition(saved.read_text(encoding="utf-8"), "download")
    assert definition.slug == SLUG
    assert definition.max_responses == 2
    assert [q.type for q in definition.questions] == [
        "yes_no",
        "long_text",
        "yes_no",
        "long_text",
        "multiple_choice",
        "rating",
        "short_text",
    ]
    # `survey load` takes the downloaded file back unchanged.
    loaded = subprocess.run(
        [SURVEY, "load", str(saved)],
        env={"SURVEY_DATABASE_URL": live_server.env["SURVEY_DATABASE_URL"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"{SLUG}: unchanged (version 2)" in loaded.stdout
