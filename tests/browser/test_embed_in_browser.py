"""The survey embedded in a blog post on another site, in a real Chromium.

The "blog" is served from http://localhost:PORT_A and the product from
http://127.0.0.1:PORT_B: different sites, so the browser treats the frame as
cross-site, exactly as on a real blog.
"""

from __future__ import annotations

import csv
import functools
import io
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, FLAGS
from tests.helpers import Server, free_port

SURVEY = str(Path(sys.executable).with_name("survey"))


class Blog:
    """A static site on its own origin."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.origin = f"http://localhost:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def blogs(tmp_path: Path) -> Iterator[tuple[Blog, Blog]]:
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    pair = (Blog(allowed), Blog(other))
    yield pair
    for blog in pair:
        blog.close()


@pytest.fixture
def app(tmp_path: Path, blogs: tuple[Blog, Blog]) -> Iterator[Server]:
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    (surveys / "members.yaml").write_text(
        "slug: members-only\ntitle: Members only\n"
        f"embed_origins: [{blogs[0].origin}]\n"
        'questions: [{key: a, type: yes_no, label: "Are you a member?"}]\n'
    )
    server = Server(
        [SURVEY],
        {
            "SURVEY_DATABASE_URL": f"sqlite:///{tmp_path / 'survey.db'}",
            "SURVEY_DEFINITIONS_DIR": str(surveys),
        },
    )
    server.wait_ready()
    yield server
    server.stop()


def write_post(blog: Blog, name: str, body: str) -> str:
    root = Path(blog.server.RequestHandlerClass.keywords["directory"])  # type: ignore[attr-defined]
    (root / name).write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Libraries Abroad</title>"
        f'<link rel="canonical" href="{blog.origin}/2026/libraries-abroad/">'
        f"</head><body><h1>Libraries Abroad</h1><p>Tell us below.</p>{body}</body></html>",
        encoding="utf-8",
    )
    return f"{blog.origin}/{name}"


def snippet(app: Server, slug: str, title: str) -> str:
    return (
        f'<div data-survey="{slug}" data-survey-title="{title}">'
        f'<a href="{app.url}/s/{slug}">Answer</a></div>'
        f'<script src="{app.url}/embed.js" async></script>'
    )


def load_survey(app: Server, text: str) -> None:
    """Load one more survey file into the running product, as an operator would."""
    path = Path(app.env["SURVEY_DEFINITIONS_DIR"]) / "extra.yaml"
    path.write_text(text, encoding="utf-8")
    subprocess.run(
        [SURVEY, "load", str(path)],
        env={"SURVEY_DATABASE_URL": app.env["SURVEY_DATABASE_URL"]},
        check=True,
        capture_output=True,
    )


def frame_height(page) -> float:  # type: ignore[no-untyped-def]
    return float(page.eval_on_selector("iframe", "f => f.getBoundingClientRect().height"))


def wait_for_height_change(page, before: float) -> float:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        f"Math.abs(document.querySelector('iframe').getBoundingClientRect().height - {before}) > 20"
    )
    return frame_height(page)


def exported(app: Server, slug: str) -> list[dict[str, str]]:
    out = subprocess.run(
        [SURVEY, "export", slug],
        env={"SURVEY_DATABASE_URL": app.env["SURVEY_DATABASE_URL"]},
        capture_output=True,
        check=True,
    ).stdout.decode()
    return list(csv.DictReader(io.StringIO(out)))


def run_embedded_flow(page, app: Server, blog: Blog) -> None:  # type: ignore[no-untyped-def]
    url = write_post(blog, "post.html", snippet(app, "libraries-abroad", "Libraries Abroad"))
    page.goto(url)
    iframe = page.locator('iframe[title="Libraries Abroad"]')
    iframe.wait_for()
    frame = page.frame_locator('iframe[title="Libraries Abroad"]')
    frame.locator("h1").wait_for()
    page.wait_for_function("document.querySelector('iframe').style.height !== '640px'")
    start = frame_height(page)

    def no_inner_scrollbar() -> bool:
        inner = page.frames[1]
        return bool(inner.evaluate("document.documentElement.scrollHeight <= innerHeight + 1"))

    assert no_inner_scrollbar()
    # Choosing an answer that shows more questions grows the frame...
    frame.get_by_label("Sometimes").check()
    grown = wait_for_height_change(page, start)
    assert grown > start
    # ...and one that hides them shrinks it again.
    frame.get_by_label("Not yet").check()
    shrunk = wait_for_height_change(page, grown)
    assert shrunk < grown
    assert no_inner_scrollbar()

    # An invalid answer: the errors show inside the frame.
    frame.get_by_label("Your email address").fill("not an email")
    frame.get_by_role("button", name="Send answers").click()
    frame.locator(".error-summary").wait_for()
    assert (
        "Enter an email address in the correct format"
        in frame.locator(".error-summary").inner_text()
    )
    assert page.url == url  # the host page never navigated
    frame.get_by_label("Your email address").fill("reader@example.org")
    frame.get_by_role("button", name="Send answers").click()
    frame.get_by_text("Your answers have been sent").wait_for()
    assert page.url == url
    [row] = exported(app, "libraries-abroad")
    assert row["source"] == f"{blog.origin}/2026/libraries-abroad/"
    assert row["visits_libraries"] == "not_yet"
    assert row["email"] == "reader@example.org"


def test_the_snippet_embeds_a_working_auto_sized_form(  # type: ignore[no-untyped-def]
    page, app: Server, blogs: tuple[Blog, Blog]
) -> None:
    run_embedded_flow(page, app, blogs[0])
    assert page.context.cookies() == []


def test_it_works_with_third_party_cookies_blocked(  # type: ignore[no-untyped-def]
    playwright_driver, app: Server, blogs: tuple[Blog, Blog]
) -> None:
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, args=[*FLAGS, "--test-third-party-cookie-phaseout"]
    )
    try:
        context = browser.new_context()
        page = context.new_page()
        run_embedded_flow(page, app, blogs[0])
        # Nothing in the flow relies on cookies: the product never set one.
        assert context.cookies() == []
    finally:
        browser.close()


def test_only_allowed_sites_can_frame_a_restricted_survey(  # type: ignore[no-untyped-def]
    page, app: Server, blogs: tuple[Blog, Blog]
) -> None:
    allowed, other = blogs
    code = snippet(app, "members-only", "Members only")
    # The allowed site frames it, beside a second survey on the same page.
    both = code + snippet(app, "libraries-abroad", "Libraries Abroad")
    page.goto(write_post(allowed, "members.html", both))
    page.frame_locator('iframe[title="Members only"]').get_by_text("Are you a member?").wait_for()
    page.frame_locator('iframe[title="Libraries Abroad"]').locator("h1").wait_for()
    page.wait_for_function(
        "[...document.querySelectorAll('iframe')].every(f => f.style.height !== '640px')"
    )
    heights = page.eval_on_selector_all(
        "iframe", "fs => fs.map(f => f.getBoundingClientRect().height)"
    )
    assert heights[0] < heights[1]  # each frame sized to its own content

    page.goto(write_post(other, "members.html", code))
    page.locator('iframe[title="Members only"]').wait_for()
    page.wait_for_timeout(1500)
    blocked = page.frames[1]
    assert "Are you a member?" not in (blocked.content() if blocked.url.startswith("http") else "")
    assert (
        page.frame_locator('iframe[title="Members only"]').get_by_text("Are you a member?").count()
        == 0
    )


def test_a_plain_iframe_works_without_the_script(  # type: ignore[no-untyped-def]
    page, app: Server, blogs: tuple[Blog, Blog]
) -> None:
    url = write_post(
        blogs[0],
        "plain.html",
        f'<iframe src="{app.url}/s/libraries-abroad?embed=1" title="Survey" '
        'width="100%" height="700"></iframe>',
    )
    page.goto(url)
    frame = page.frame_locator('iframe[title="Survey"]')
    frame.get_by_label("Yes, whenever I can").check()
    frame.get_by_role("button", name="Send answers").click()
    frame.get_by_text("Your answers have been sent").wait_for()
    [row] = exported(app, "libraries-abroad")
    assert row["visits_libraries"] == "often"


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_after_sending_the_frame_comes_into_view_with_the_news_focused(  # type: ignore[no-untyped-def]
    chromium_browser, app: Server, blogs: tuple[Blog, Blog], motion: str
) -> None:
    """A long post with comments below: the tall form shrinks to the thanks,
    and the reader must see it (and a screen reader hear it), not the footer."""
    story = "<p>" + "A long story about libraries far away. " * 40 + "</p>"
    comments = "".join(f"<p>Comment {n}: what a trip!</p>" * 20 for n in range(10))
    url = write_post(
        blogs[0],
        "long.html",
        story * 6 + snippet(app, "libraries-abroad", "Libraries Abroad") + comments,
    )
    context = chromium_browser.new_context(
        viewport={"width": 800, "height": 700}, reduced_motion=motion
    )
    page = context.new_page()
    try:
        page.goto(url)
        frame = page.frame_locator('iframe[title="Libraries Abroad"]')
        frame.get_by_label("Sometimes").check()  # the longest form
        page.wait_for_function("document.querySelector('iframe').style.height !== '640px'")
        frame.get_by_role("button", name="Send answers").click()
        frame.get_by_text("Your answers have been sent").wait_for()
        page.wait_for_function(
            """() => {
              const top = document.querySelector('iframe').getBoundingClientRect().top;
              return top >= -1 && top < innerHeight / 2;
            }""",
            timeout=5000,
        )
        inner = page.frames[1]
        assert inner.evaluate("document.activeElement.tagName") == "H1"
        assert inner.evaluate("document.activeElement.textContent") == (
            "Your answers have been sent"
        )
        # The same for the form sent again with a problem: the summary takes focus.
        page.goto(url)
        frame.get_by_label("Your email address").fill("not an email")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        frame.get_by_role("button", name="Send answers").click()
        frame.locator(".error-summary").wait_for()
        page.wait_for_function(
            "document.querySelector('iframe').getBoundingClientRect().top >= -1"
            " && document.querySelector('iframe').getBoundingClientRect().top < innerHeight / 2",
            timeout=5000,
        )
        assert "error-summary" in page.frames[1].evaluate("document.activeElement.className")
    finally:
        context.close()


def test_a_frame_sandboxed_without_forms_offers_a_new_tab_instead(  # type: ignore[no-untyped-def]
    page, app: Server, blogs: tuple[Blog, Blog]
) -> None:
    """WordPress frames other sites' oEmbed HTML with sandbox="allow-scripts"
    (no allow-forms): a Send button there would do nothing."""
    url = write_post(
        blogs[0],
        "wordpress.html",
        f'<iframe sandbox="allow-scripts" src="{app.url}/s/libraries-abroad?embed=1&lang=fr" '
        'title="Survey" width="100%" height="700"></iframe>',
    )
    page.goto(url)
    frame = page.frame_locator('iframe[title="Survey"]')
    link = frame.get_by_role(
        "link", name="Ouvrez le formulaire dans un nouvel onglet pour répondre"
    )
    link.wait_for()
    assert link.get_attribute("href") == "/s/libraries-abroad?lang=fr"
    assert frame.get_by_role("button", name="Envoyer les réponses").count() == 0
    # Without the sandbox, the same page keeps its button and hides the note.
    plain = write_post(
        blogs[0],
        "plain-fr.html",
        f'<iframe src="{app.url}/s/libraries-abroad?embed=1&lang=fr" title="Survey" '
        'width="100%" height="700"></iframe>',
    )
    page.goto(plain)
    frame.get_by_role("button", name="Envoyer les réponses").wait_for()
    assert frame.get_by_role("link", name="Ouvrez le formulaire dans un nouvel onglet").count() == 0


def test_the_snippet_passes_prefilled_answers_to_the_form(  # type: ignore[no-untyped-def]
    page, app: Server, blogs: tuple[Blog, Blog]
) -> None:
    box = (
        '<div data-survey="libraries-abroad" data-survey-title="Libraries Abroad" '
        'data-survey-prefill-visits-libraries="often">'
        f'<a href="{app.url}/s/libraries-abroad">Answer</a></div>'
        f'<script src="{app.url}/embed.js" async></script>'
    )
    url = write_post(blogs[0], "prefill.html", box)
    # The post's own address carries one more (a newsletter's link to the post).
    page.goto(url + "?international_member=yes&utm_source=mail")
    frame = page.frame_locator('iframe[title="Libraries Abroad"]')
    frame.get_by_label("Yes, whenever I can").wait_for()
    assert frame.get_by_label("Yes, whenever I can").is_checked()
    assert (
        frame.get_by_role("group", name="Are you an international member?")
        .get_by_label("Yes", exact=True)
        .is_checked()
    )
    assert exported(app, "libraries-abroad") == []  # nothing stored until sent


def test_the_results_embed_in_the_follow_up_post(  # type: ignore[no-untyped-def]
    page, app: Server, blogs: tuple[Blog, Blog], tmp_path: Path
) -> None:
    load_survey(
        app,
        "slug: heard\ntitle: What we heard\n"
        "results: {public: true, questions: [liked], min_responses: 1}\n"
        'questions: [{key: liked, type: yes_no, label: "Did you like it?"}]\n',
    )
    box = (
        '<div data-survey-results="heard" data-survey-title="What we heard"></div>'
        f'<script src="{app.url}/embed.js" async></script>'
    )
    page.goto(write_post(blogs[0], "follow-up.html", box))
    frame = page.frame_locator('iframe[title="What we heard"]')
    frame.get_by_text("0 responses so far.").wait_for()
    page.wait_for_function("document.querySelector('iframe').style.height !== '640px'")
    assert frame_height(page) < 640  # sized to the results, no inner scrollbar


def test_hidden_values_from_the_embed_are_stored_and_exported(  # type: ignore[no-untyped-def]
    page, app: Server, blogs: tuple[Blog, Blog]
) -> None:
    load_survey(
        app,
        "slug: spring\ntitle: Spring list\nquestions:\n"
        '  - {key: liked, type: yes_no, label: "Did you like the list?"}\n'
        "  - {key: utm_campaign, type: hidden, label: Campaign}\n"
        "  - {key: member_type, type: hidden, label: Member type}\n",
    )
    box = (
        '<div data-survey="spring" data-survey-title="Spring list" '
        'data-survey-prefill-member-type="school">'
        f'<a href="{app.url}/s/spring">Answer</a></div>'
        f'<script src="{app.url}/embed.js" async></script>'
    )
    page.goto(write_post(blogs[0], "spring.html", box) + "?utm_campaign=may-letter")
    frame = page.frame_locator('iframe[title="Spring list"]')
    frame.get_by_label("Yes").check()
    frame.get_by_role("button", name="Send answers").click()
    frame.get_by_text("Your answers have been sent").wait_for()
    [row] = exported(app, "spring")
    assert (row["liked"], row["utm_campaign"], row["member_type"]) == (
        "yes",
        "may-letter",
        "school",
    )


def test_a_newsletter_link_works_with_scripts_and_images_off(  # type: ignore[no-untyped-def]
    chromium_browser, app: Server
) -> None:
    out = subprocess.run(
        [SURVEY, "embed", "libraries-abroad", "--email", "visits_libraries", "--base-url", app.url],
        env={"SURVEY_DATABASE_URL": app.env["SURVEY_DATABASE_URL"]},
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    from bs4 import BeautifulSoup

    link = BeautifulSoup(out, "html.parser").find("a", string="Sometimes")["href"]
    context = chromium_browser.new_context(java_script_enabled=False)
    context.route("**/*.{png,jpg,gif,svg}", lambda route: route.abort())
    page = context.new_page()
    try:
        page.goto(link)
        assert page.get_by_label("Sometimes").is_checked()
        assert exported(app, "libraries-abroad") == []  # following it stored nothing
        page.get_by_role("button", name="Send answers").click()
        page.get_by_text("Your answers have been sent").wait_for()
    finally:
        context.close()
    [row] = exported(app, "libraries-abroad")
    assert row["visits_libraries"] == "sometimes"
