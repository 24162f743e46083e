"""Accessibility and HTML validity, checked by tools nobody here wrote.

- axe-core (npm, pinned in package-lock.json) runs inside headless Chromium on
  every kind of page a member or a staff member sees: zero violations of the
  WCAG 2.0/2.1/2.2 A and AA rules.
- The Nu Html Checker (npm ``vnu-jar``, run with Java) reads the HTML the
  server sends for the same pages: zero errors.
- A keyboard-only member completes and sends the bundled survey.

Where node_modules or Java is missing these skip with the reason, unless
SURVEY_REQUIRE_BROWSER=1 (CI, where .ci/run installs them) makes them fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import STAFF_PASSWORD, Server
from tests.test_i18n import TRANSLATED

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SURVEY = str(Path(sys.executable).with_name("survey"))
CLOSED = """\
slug: closed-one
title: A survey that has closed
status: closed
questions:
  - {key: a, type: short_text, label: A question}
"""


HEARD = """\
slug: heard
title: {en: What we heard, ar: ما سمعناه}
results: {public: true, questions: [liked], min_responses: 1}
questions:
  - {key: liked, type: yes_no, label: {en: "Did you like the post?", ar: "هل أعجبتك التدوينة؟"}}
"""


def _need(path: Path, what: str) -> None:
    if path.exists():
        return
    reason = f"{what} not found at {path} (run `npm ci` in the repository)"
    if os.environ.get("SURVEY_REQUIRE_BROWSER") == "1":
        pytest.fail(f"accessibility checks are required (SURVEY_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(f"accessibility checks skipped: {reason}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`survey serve` with the bundled survey, a closed one, a response and an admin."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "surveys").mkdir()
    (folder / "surveys" / "closed.yaml").write_text(CLOSED)
    (folder / "surveys" / "reading.yaml").write_text(TRANSLATED, encoding="utf-8")
    (folder / "surveys" / "heard.yaml").write_text(HEARD, encoding="utf-8")
    env = {
        "SURVEY_DATABASE_URL": f"sqlite:///{folder / 'survey.db'}",
        "SURVEY_DEFINITIONS_DIR": str(folder / "surveys"),
    }
    server = Server([SURVEY], env)
    server.wait_ready()
    subprocess.run(
        [SURVEY, "user", "create", "a11y@example.org", "--role", "admin", "--password-stdin"],
        env={**os.environ, **env},
        input=(STAFF_PASSWORD + "\n").encode(),
        check=True,
        capture_output=True,
    )
    body = json.dumps({"answers": {"visits_libraries": "often", "lessons": "Story walks"}})
    request = urllib.request.Request(
        f"{server.url}/api/surveys/libraries-abroad/responses",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
    for liked in ("yes", "yes", "no"):
        heard = urllib.request.Request(
            f"{server.url}/api/surveys/heard/responses",
            data=json.dumps({"answers": {"liked": liked}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(heard) as response:
            assert response.status == 201
    _start_a_draft(server)
    # A webhook whose address is refused (loopback), so its page lists an attempt.
    subprocess.run(
        [SURVEY, "webhook", "add", "libraries-abroad", "https://127.0.0.1:9/hook"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    yield server
    server.stop()


def _start_a_draft(server: Server) -> None:
    """A draft of the bundled survey, so that the builder's pages have one to show."""
    import http.cookiejar
    import re
    import urllib.parse

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    def fetch(path: str, data: dict[str, str] | None = None) -> str:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        with opener.open(server.url + path, data=body) as response:
            return str(response.read().decode())

    token = re.search(r'name="_sign_in" value="([^"]+)"', fetch("/admin/login"))
    assert token is not None
    fetch(
        "/admin/login",
        {"email": "a11y@example.org", "password": STAFF_PASSWORD, "_sign_in": token.group(1)},
    )
    csrf = re.search(r'name="_csrf" value="([^"]+)"', fetch("/admin"))
    assert csrf is not None
    fetch("/admin/surveys/libraries-abroad/edit", {"_csrf": csrf.group(1)})


def _sign_in(page, site: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{site.url}/admin/login")
    page.get_by_label("Email address").fill("a11y@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/admin")


# (name, how to reach it): a path, or a path and a button to press there.
MEMBER_PAGES = [
    ("form", "/s/libraries-abroad", None),
    ("form with errors", "/s/libraries-abroad", "Send answers"),
    ("closed survey", "/s/closed-one", None),
    ("embedded form", "/s/libraries-abroad?embed=1", None),
    ("embedded form with errors", "/s/libraries-abroad?embed=1", "Send answers"),
    ("survey list", "/", None),
    ("not found", "/s/no-such-survey", None),
    ("form in Arabic", "/s/reading?lang=ar", None),
    ("form in Arabic with errors", "/s/reading?lang=ar", "أرسل الإجابات"),
    ("closed survey in Arabic", "/s/closed-one?lang=ar", None),
    ("form in French, embedded", "/s/reading?lang=fr&embed=1", None),
    ("public results", "/s/heard/results", None),
    ("public results in Arabic", "/s/heard/results?lang=ar", None),
    ("public results, embedded", "/s/heard/results?embed=1", None),
    ("staff sign-in", "/admin/login", None),
    ("staff sign-in with an error", "/admin/login", "Sign in"),
]
STAFF_PAGES = [
    ("dashboard", "/admin"),
    ("responses", "/admin/surveys/libraries-abroad/responses"),
    ("one response", "/admin/surveys/libraries-abroad/responses/1"),
    ("summary", "/admin/surveys/libraries-abroad/summary"),
    ("users", "/admin/users"),
    ("tokens", "/admin/tokens"),
    ("erase", "/admin/erase"),
    ("audit", "/admin/audit"),
    ("new survey", "/admin/surveys/new"),
    ("survey page", "/admin/surveys/libraries-abroad"),
    ("builder", "/admin/surveys/libraries-abroad/edit"),
    ("builder: a choice question", "/admin/surveys/libraries-abroad/edit/questions/1"),
    ("builder: a new grid", "/admin/surveys/libraries-abroad/edit/questions/new?type=matrix"),
    ("builder: preview in Arabic", "/admin/surveys/libraries-abroad/edit/preview?lang=ar"),
    ("your account", "/admin/account"),
    ("set a password", "/admin/users/1/password"),
    ("two-step sign-in", "/admin/account/two-step"),
    ("delete a response", "/admin/surveys/libraries-abroad/responses/1/delete"),
    ("webhooks", "/admin/surveys/libraries-abroad/webhooks"),
    ("a webhook", "/admin/webhooks/1"),
    ("stop emails: the page a bad link opens", "/admin/notifications/stop?t=bad"),
]


def _violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.evaluate(
        AXE.read_text(encoding="utf-8")
    )  # evaluated by CDP: the page's CSP allows no inline script
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def test_axe_does_catch_violations(page) -> None:  # type: ignore[no-untyped-def]
    """The control: the same check on a page with known faults reports them."""
    _need(AXE, "axe-core")
    page.set_content('<html><body><img src="data:,"><button></button></body></html>')
    found = " ".join(_violations(page))
    for rule in ("html-has-lang", "image-alt", "button-name"):
        assert rule in found


def test_axe_finds_no_violations_on_any_page(page, site: Server) -> None:  # type: ignore[no-untyped-def]
    _need(AXE, "axe-core")
    found: dict[str, list[str]] = {}
    for name, path, button in MEMBER_PAGES:
        page.goto(site.url + path)
        if button:
            page.get_by_role("button", name=button).click()
            page.wait_for_load_state()
        found[name] = _violations(page)
    page.goto(f"{site.url}/s/libraries-abroad")
    page.get_by_label("Not yet").check()
    page.get_by_role("button", name="Send answers").click()
    page.wait_for_url("**/thanks")
    found["thank-you page"] = _violations(page)
    _sign_in(page, site)
    for name, path in STAFF_PAGES:
        page.goto(site.url + path)
        found[name] = _violations(page)
    page.goto(f"{site.url}/admin/surveys/libraries-abroad/edit/questions/new?type=rating")
    page.get_by_role("button", name="Save question").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    found["builder: a question with errors"] = _violations(page)
    page.goto(f"{site.url}/admin/surveys/new")
    page.get_by_role("button", name="Make a draft from the post").click()
    page.wait_for_load_state()
    found["new survey with an error"] = _violations(page)
    page.goto(f"{site.url}/admin/surveys/libraries-abroad/webhooks")
    page.get_by_label("The receiver's address").fill("ftp://hooks.example.org")
    page.get_by_role("button", name="Add the webhook").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    found["webhooks with an error"] = _violations(page)
    failing = {name: ids for name, ids in found.items() if ids}
    assert not failing, json.dumps(failing, indent=2)


def test_dark_scheme_and_narrow_screen_pass_axe_too(chromium_browser, site: Server) -> None:  # type: ignore[no-untyped-def]
    _need(AXE, "axe-core")
    context = chromium_browser.new_context(
        color_scheme="dark", reduced_motion="reduce", viewport={"width": 320, "height": 640}
    )
    page = context.new_page()
    try:
        found = {}
        for name, path, button in MEMBER_PAGES[:2]:
            page.goto(site.url + path)
            if button:
                page.get_by_role("button", name=button).click()
                page.wait_for_load_state()
            found[name] = _violations(page)
            # Nothing sideways at 320 px: the page is no wider than the screen.
            assert page.evaluate("document.documentElement.scrollWidth") <= 320, name
        _sign_in(page, site)
        page.goto(f"{site.url}/admin/surveys/libraries-abroad/summary")
        found["summary"] = _violations(page)
        # A token listed, so the tokens table has rows (and hidden labels in them).
        page.goto(f"{site.url}/admin/tokens")
        page.get_by_label("Name").fill("narrow screen")
        page.get_by_role("button", name="Make token").click()
        page.wait_for_load_state()
        for name, path in STAFF_PAGES:
            page.goto(site.url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 320, name
    finally:
        context.close()
    failing = {name: ids for name, ids in found.items() if ids}
    assert not failing, json.dumps(failing, indent=2)


def test_targets_are_at_least_24_px(page, site: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{site.url}/s/libraries-abroad")
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                  'input:not([type=hidden]), button, select, textarea, a')]
              .filter(e => e.offsetParent !== null && !e.closest('.trap'))
              .map(e => [e.id || e.textContent.trim(), e.getBoundingClientRect()])
              .filter(([_, r]) => r.width < 24 || r.height < 24)
              .map(([name, r]) => `${name}: ${r.width}x${r.height}`)"""
    )
    assert small == []


def test_every_page_is_valid_html(site: Server, tmp_path: Path) -> None:
    _need(VNU, "vnu-jar")
    if shutil.which("java") is None:
        reason = "java not found (apt-get install default-jre-headless)"
        if os.environ.get("SURVEY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"HTML checks are required (SURVEY_REQUIRE_BROWSER=1): {reason}")
        pytest.skip(f"HTML checks skipped: {reason}")
    import http.cookiejar
    import re
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def fetch(path: str, data: dict[str, str] | None = None) -> str:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with opener.open(site.url + path, data=body) as response:
                return str(response.read().decode())
        except urllib.error.HTTPError as error:  # 404, 422: their pages count too
            with error:
                return str(error.read().decode())

    pages = {}
    for name, path, _button in MEMBER_PAGES:
        pages[name] = fetch(path)
    form = fetch("/s/libraries-abroad")
    token = re.search(r'name="_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    pages["form with errors"] = fetch("/s/libraries-abroad", {"_token": token})
    pages["thank-you page"] = fetch("/s/libraries-abroad/thanks")
    sign_in = re.search(r'name="_sign_in" value="([^"]+)"', fetch("/admin/login")).group(1)  # type: ignore[union-attr]
    fetch(
        "/admin/login",
        {"email": "a11y@example.org", "password": STAFF_PASSWORD, "_sign_in": sign_in},
    )
    for name, path in STAFF_PAGES:
        pages[name] = fetch(path)
    assert "Sign out" in pages["dashboard"]
    csrf = re.search(r'name="_csrf" value="([^"]+)"', pages["dashboard"]).group(1)  # type: ignore[union-attr]
    revision = re.search(r'name="revision" value="(\d+)"', pages["builder"]).group(1)  # type: ignore[union-attr]
    pages["builder: a question with errors"] = fetch(
        "/admin/surveys/libraries-abroad/edit/questions",
        {"_csrf": csrf, "revision": revision, "type": "rating"},
    )
    assert "There is a problem" in pages["builder: a question with errors"]
    pages["new survey with an error"] = fetch("/admin/surveys/new/post", {"_csrf": csrf})
    pages["webhooks with an error"] = fetch(
        "/admin/surveys/libraries-abroad/webhooks", {"_csrf": csrf, "url": "ftp://x"}
    )
    assert "There is a problem" in pages["webhooks with an error"]
    files = []
    for number, (name, html) in enumerate(pages.items()):
        target = tmp_path / f"{number:02d}-{name.replace(' ', '-')}.html"
        target.write_text(html, encoding="utf-8")
        files.append(str(target))
    checked = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
    )
    messages = json.loads(checked.stderr or '{"messages": []}')["messages"]
    errors = [f"{Path(m['url']).name}:{m.get('lastLine')}: {m['message']}" for m in messages]
    assert errors == [], "\n".join(errors)


def test_keyboard_alone_completes_the_survey(page, site: Server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{site.url}/s/libraries-abroad")

    def focused() -> dict[str, str]:
        return page.evaluate(  # type: ignore[no-any-return]
            "() => ({id: document.activeElement.id, tag: document.activeElement.tagName,"
            " type: document.activeElement.type || '', text: document.activeElement.textContent})"
        )

    page.keyboard.press("Tab")  # the skip link
    assert "Skip to main content" in focused()["text"]
    for _ in range(6):  # past the language switcher, into the first radio group
        page.keyboard.press("Tab")
        if focused()["id"] == "visits_libraries":
            break
    assert focused()["id"] == "visits_libraries"
    page.keyboard.press("ArrowDown")  # arrows move through a group and choose
    assert (
        page.locator('input[name="visits_libraries"]:checked').get_attribute("value") == "sometimes"
    )
    ticked = False
    for _ in range(60):
        page.keyboard.press("Tab")
        now = focused()
        if now["type"] == "checkbox" and not ticked:
            page.keyboard.press("Space")
            ticked = True
        if now["tag"] == "BUTTON":
            break
    assert focused()["text"].strip() == "Send answers"
    assert ticked
    page.keyboard.press("Enter")
    page.wait_for_url("**/thanks")
    assert "Your answers have been sent" in page.locator("h1").inner_text()
