"""The matrix and ranking kinds in Chromium: axe-core and the Nu Html Checker
on the form (English and Arabic, with and without errors) and the staff
summary; a keyboard-only reader ranks with the move buttons; a reader without
JavaScript answers with the selects alone.  Screenshots for people to look at
go to SURVEY_SCREENSHOTS when it is set."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.test_accessibility import AXE, SURVEY, VNU, _need, _violations
from tests.helpers import STAFF_PASSWORD, Server
from tests.questions.conftest import GRID

FORM = "/s/grid"


@pytest.fixture(scope="module")
def grid_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("grid")
    (folder / "surveys").mkdir()
    (folder / "surveys" / "grid.yaml").write_text(GRID, encoding="utf-8")
    env = {
        "SURVEY_DATABASE_URL": f"sqlite:///{folder / 'survey.db'}",
        "SURVEY_DEFINITIONS_DIR": str(folder / "surveys"),
        "SURVEY_MIN_FILL_SECONDS": "0",
    }
    server = Server([SURVEY], env)
    server.wait_ready()
    subprocess.run(
        [SURVEY, "user", "create", "grid@example.org", "--role", "admin", "--password-stdin"],
        env={**os.environ, **env},
        input=(STAFF_PASSWORD + "\n").encode(),
        check=True,
        capture_output=True,
    )
    yield server
    server.stop()


def _shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("SURVEY_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _sign_in(page, site: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{site.url}/admin/login")
    page.get_by_label("Email address").fill("grid@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/admin")


def _stored(site: Server) -> list[dict[str, object]]:
    """Answers as the staff JSON Lines download gives them."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{site.url}/admin/login") as response:
        token = re.search(r'name="_sign_in" value="([^"]+)"', response.read().decode())
    assert token
    fields = {"email": "grid@example.org", "password": STAFF_PASSWORD, "_sign_in": token.group(1)}
    opener.open(f"{site.url}/admin/login", urllib.parse.urlencode(fields).encode()).close()
    with opener.open(f"{site.url}/admin/surveys/grid/download?format=jsonl") as response:
        return [json.loads(line)["answers"] for line in response.read().decode().splitlines()]


def test_keyboard_alone_ranks_with_the_move_buttons(page, grid_site: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(grid_site.url + FORM)
    page.get_by_role("button", name="Move up: =Events").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # already first: stays first
    page.get_by_role("button", name="Move up: Longer hours").focus()
    page.keyboard.press("Enter")
    status = page.locator("[data-ranking-status]")
    assert status.text_content() == "Longer hours is now number 2"
    order = page.locator("[data-ranking-item] label").all_text_contents()
    assert order == ["=Events", "Longer hours", "More books"]
    assert page.locator("#priorities-3").input_value() == "1"  # =Events' own select
    page.get_by_label("Very useful").first.check()
    page.locator('input[name="programmes.maker"][value="not"]').check()
    _shoot(page, "grid-form-en-1280")
    page.get_by_role("button", name="Send answers").click()
    page.wait_for_url("**/thanks")
    assert _stored(grid_site)[-1]["priorities"] == ["events", "hours"]


def test_without_javascript_the_selects_alone_work(chromium_browser, grid_site: Server) -> None:  # type: ignore[no-untyped-def]
    context = chromium_browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(grid_site.url + FORM)
        assert page.get_by_role("button", name=re.compile("Move up")).count() == 0
        page.locator('input[name="programmes.story_time"][value="some"]').check()
        page.locator('input[name="programmes.maker"][value="very"]').check()
        page.get_by_label("More books").select_option("2")
        page.get_by_label("Longer hours").select_option("1")
        page.get_by_role("button", name="Send answers").click()
        page.wait_for_url("**/thanks")
    finally:
        context.close()
    assert _stored(grid_site)[-1] == {
        "programmes": {"story_time": "some", "maker": "very"},
        "priorities": ["hours", "books"],
    }


PAGES = [
    ("grid form", FORM, None),
    ("grid form with errors", FORM, "Send answers"),
    ("grid form in Arabic", FORM + "?lang=ar", None),
    ("grid form in Arabic with errors", FORM + "?lang=ar", "أرسل الإجابات"),
]


def test_axe_and_the_html_checker_pass_on_matrix_and_ranking(
    chromium_browser, grid_site: Server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _need(AXE, "axe-core")
    _need(VNU, "vnu-jar")
    found: dict[str, list[str]] = {}
    files = []
    for width in (1280, 320):
        context = chromium_browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        for name, path, button in PAGES:
            page.goto(grid_site.url + path)
            if button:
                page.get_by_role("button", name=button).click()
                page.wait_for_load_state()
            found[f"{name} at {width}px"] = _violations(page)
            wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            assert not wide, f"{name} is wider than {width}px"
            _shoot(page, f"{name.replace(' ', '-')}-{width}")
            target = tmp_path / f"{len(files):02d}.html"
            target.write_text(page.content(), encoding="utf-8")
            files.append(str(target))
        _sign_in(page, grid_site)
        page.goto(grid_site.url + "/admin/surveys/grid/summary")
        found[f"summary at {width}px"] = _violations(page)
        _shoot(page, f"grid-summary-{width}")
        context.close()
    failing = {name: ids for name, ids in found.items() if ids}
    assert not failing, json.dumps(failing, indent=2)
    checked = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
    )
    messages = json.loads(checked.stderr or '{"messages": []}')["messages"]
    assert [m["message"] for m in messages] == []
