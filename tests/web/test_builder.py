"""The builder (survey.web.admin.builder and .surveys): a survey made from a
post, edited, previewed, published, closed when full, edited again and
downloaded, through the real forms, on each database."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from survey.db import Database
from survey.definitions import parse_definition
from tests.helpers import (
    ADMIN_EMAIL,
    VIEWER_EMAIL,
    create_staff,
    csrf_token,
    form_token,
    sign_in,
    stored_answers,
)

POST = Path(__file__).parents[1] / "data" / "posts" / "libraries-abroad-post.txt"
SLUG = "libraries-abroad-draft"
SHORT_POST = "Reading club\n\nWe met on Monday and talked about books.\n\nDo you read at night?"


@pytest.fixture
def admin(client: TestClient, database: Database) -> TestClient:
    create_staff(database, ADMIN_EMAIL, "admin")
    assert sign_in(client, ADMIN_EMAIL).status_code == 303
    return client


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def revision(client: TestClient, slug: str = SLUG) -> str:
    found = soup(client.get(f"/admin/surveys/{slug}/edit")).find("input", {"name": "revision"})
    assert found is not None
    return str(found["value"])


def post(client: TestClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(path, data={"_csrf": csrf_token(client), **data}, **kwargs)


def start_from_post(admin: TestClient) -> None:
    made = post(
        admin,
        "/admin/surveys/new/post",
        {"post": POST.read_text(encoding="utf-8"), "slug": SLUG},
    )
    assert made.status_code == 303
    assert made.headers["location"] == f"/admin/surveys/{SLUG}/edit"


def test_a_post_becomes_a_draft_that_is_edited_published_and_closes_when_full(
    admin: TestClient, database: Database
) -> None:
    start_from_post(admin)
    editor = soup(admin.get(f"/admin/surveys/{SLUG}/edit"))
    labels = [p.bdi.get_text() for p in editor.select(".builder-question p")]
    assert labels == [
        "Are you visiting other libraries when you go on vacation?",
        "What are you learning?",
        "Are you an international member?",
        "How have you been using ALSC resources?",
    ]
    # Readers see nothing of a draft.
    assert admin.get(f"/s/{SLUG}").status_code == 404

    # A multiple choice with "Other", then a rating.
    added = post(
        admin,
        f"/admin/surveys/{SLUG}/edit/questions",
        {
            "revision": revision(admin),
            "type": "multiple_choice",
            "label.en": "Which resources do you use?",
            "options.new.0.label.en": "Webinars",
            "options.new.1.label.en": "Booklists",
            "allow_other": "yes",
        },
    )
    assert added.status_code == 303, added.text
    # A rating without its label is refused with the field named, nothing saved.
    before = revision(admin)
    refused = post(
        admin,
        f"/admin/surveys/{SLUG}/edit/questions",
        {"revision": before, "type": "rating", "label.en": "", "scale": "many"},
    )
    assert refused.status_code == 422
    summary = soup(refused).select(".error-summary a")
    assert [a["href"] for a in summary] == ["#label.en", "#scale"]
    assert revision(admin) == before
    assert (
        post(
            admin,
            f"/admin/surveys/{SLUG}/edit/questions",
            {"revision": before, "type": "rating", "label.en": "How useful is the blog?"},
        ).status_code
        == 303
    )
    # Settings: the form closes after two responses.
    settings = post(
        admin,
        f"/admin/surveys/{SLUG}/edit/settings",
        {"revision": revision(admin), "title.en": "Libraries Abroad", "max_responses": "2"},
    )
    assert settings.status_code == 303
    preview = admin.get(f"/admin/surveys/{SLUG}/edit/preview")
    assert preview.status_code == 200
    assert "Which resources do you use?" in preview.text
    assert 'name="_token"' not in preview.text  # nothing can be sent from a preview

    published = post(admin, f"/admin/surveys/{SLUG}/edit/publish", {"revision": revision(admin)})
    assert published.status_code == 303
    assert published.headers["location"].startswith(f"/admin/surveys/{SLUG}?published=")

    for note in ("first", "second"):
        token = form_token(admin, f"/s/{SLUG}")
        sent = admin.post(
            f"/s/{SLUG}",
            data={
                "_token": token,
                # Keys made from the questions' words, as the builder shows them.
                "resources_use": ["webinars", "other"],
                "resources_use_other": note,
                "useful_blog": "4",
            },
        )
        assert sent.status_code == 303, sent.text
    closed = admin.get(f"/s/{SLUG}")
    assert closed.status_code == 410
    assert "has all the answers it needs" in closed.text
    answers = stored_answers(database)
    assert [a["resources_use_other"] for a in answers] == ["first", "second"]

    # Edited again: a new question makes version 2; the key with answers is locked.
    assert post(admin, f"/admin/surveys/{SLUG}/edit", {}).status_code == 303
    editing = soup(admin.get(f"/admin/surveys/{SLUG}/edit/questions/5"))
    assert editing.find("input", {"name": "key"}).has_attr("readonly")
    assert (
        post(
            admin,
            f"/admin/surveys/{SLUG}/edit/questions",
            {"revision": revision(admin), "type": "short_text", "label.en": "Your library?"},
        ).status_code
        == 303
    )
    again = post(admin, f"/admin/surveys/{SLUG}/edit/publish", {"revision": revision(admin)})
    assert again.status_code == 303
    assert "Published as version 2" in admin.get(again.headers["location"]).text

    downloaded = admin.get(f"/admin/surveys/{SLUG}/survey.yaml")
    assert downloaded.headers["content-disposition"] == f'attachment; filename="{SLUG}.yaml"'
    definition = parse_definition(downloaded.text, "download")
    assert definition.max_responses == 2
    assert [q.key for q in definition.questions][-3:] == ["resources_use", "useful_blog", "library"]
    assert definition.questions[1].show_if == {definition.questions[0].key: ["yes"]}


def test_two_people_saving_the_same_draft_do_not_overwrite_each_other(
    admin: TestClient,
) -> None:
    start_from_post(admin)
    opened = revision(admin)  # both open the draft at this revision
    first = post(
        admin,
        f"/admin/surveys/{SLUG}/edit/questions/2/move",
        {"revision": opened, "direction": "down"},
    )
    assert first.status_code == 303
    second = post(
        admin,
        f"/admin/surveys/{SLUG}/edit/questions/4/remove",
        {"revision": opened},
    )
    assert second.status_code == 409
    text = soup(second).select_one(".error-summary").get_text(" ", strip=True)
    assert "Nothing was saved" in text
    assert ADMIN_EMAIL in text
    assert "question 2 moved" in text
    assert len(soup(admin.get(f"/admin/surveys/{SLUG}/edit")).select(".builder-question")) == 4


def test_a_follow_up_cannot_move_above_or_outlive_its_question(admin: TestClient) -> None:
    start_from_post(admin)
    moved = post(
        admin,
        f"/admin/surveys/{SLUG}/edit/questions/2/move",
        {"revision": revision(admin), "direction": "up"},
    )
    assert moved.status_code == 422
    assert "must stay below it" in moved.text
    removed = post(
        admin, f"/admin/surveys/{SLUG}/edit/questions/1/remove", {"revision": revision(admin)}
    )
    assert removed.status_code == 422


def test_viewers_see_surveys_but_cannot_change_them(client: TestClient, database: Database) -> None:
    create_staff(database, VIEWER_EMAIL, "viewer")
    assert sign_in(client, VIEWER_EMAIL).status_code == 303
    page = client.get("/admin/surveys/libraries-abroad")
    assert page.status_code == 200
    assert "Edit the survey" not in page.text
    assert client.get("/admin/surveys/libraries-abroad/survey.yaml").status_code == 200
    token = csrf_token(client)
    assert (
        client.post("/admin/surveys/libraries-abroad/edit", data={"_csrf": token}).status_code
        == 403
    )


def test_the_accepting_switch_closes_and_reopens_without_a_new_version(
    admin: TestClient,
) -> None:
    closed = post(admin, "/admin/surveys/libraries-abroad/accepting", {"accepting": "no"})
    assert closed.status_code == 303
    assert admin.get("/s/libraries-abroad").status_code == 410
    assert (
        post(admin, "/admin/surveys/libraries-abroad/accepting", {"accepting": "yes"}).status_code
        == 303
    )
    assert admin.get("/s/libraries-abroad").status_code == 200
    page = soup(admin.get("/admin/surveys/libraries-abroad"))
    assert re.search(r"Version\s*1\b", page.select_one(".summary-list").get_text(" "))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"post": "Nothing to ask here. Just a story."}, "post", "no questions to the readers"),
        ({"address": "http://127.0.0.1:9/post"}, "address", "could not be used"),
        ({"address": "ftp://example.org/post"}, "address", "must start with https://"),
        ({"post": SHORT_POST, "slug": "Bad Slug"}, "post_slug", "lower-case letters"),
        ({"post": SHORT_POST, "slug": "libraries-abroad"}, "post_slug", "already has"),
    ],
)
def test_a_post_that_cannot_make_a_draft_says_why(
    admin: TestClient, data: dict[str, str], field: str, message: str
) -> None:
    refused = post(admin, "/admin/surveys/new/post", data)
    assert refused.status_code == 422
    page = soup(refused)
    assert page.select_one(".error-summary a")["href"] == f"#{field}"
    assert message in page.select_one(f"#{field}-error").get_text()


def test_an_uploaded_file_opens_as_a_draft_and_a_bad_one_is_explained(
    admin: TestClient,
) -> None:
    good = (
        "slug: book-club\ntitle: {en: Book club, ar: نادي الكتاب}\nquestions:\n"
        "  - key: coming\n    type: yes_no\n    label: {en: 'Coming?', ar: 'هل ستأتي؟'}\n"
    )
    made = post(
        admin, "/admin/surveys/new/file", {}, files={"upload": ("club.yaml", good.encode())}
    )
    assert made.status_code == 303, soup(made).select_one(".error-summary")
    editor = admin.get("/admin/surveys/book-club/edit").text
    assert 'name="title.ar"' in editor
    assert "نادي الكتاب" in editor
    # The preview speaks each of the draft's languages, with links between them.
    preview = soup(admin.get("/admin/surveys/book-club/edit/preview?lang=ar"))
    assert preview.html["lang"] == "ar"
    assert preview.h1.get_text() == "نادي الكتاب"
    links = {a["hreflang"]: a["href"] for a in preview.select("nav.languages a")}
    assert links == {
        "en": "/admin/surveys/book-club/edit/preview?lang=en",
        "ar": "/admin/surveys/book-club/edit/preview?lang=ar",
    }
    bad = post(
        admin, "/admin/surveys/new/file", {}, files={"upload": ("x.yaml", b"slug: x\nquestions: 3")}
    )
    assert bad.status_code == 422
    assert "x.yaml" in soup(bad).select_one("#upload-error").get_text()
    binary = post(
        admin, "/admin/surveys/new/file", {}, files={"upload": ("x.yaml", b"\xff\xfe\x00\x01")}
    )
    assert binary.status_code == 422


def test_the_builder_publishes_results_settings(admin: TestClient) -> None:
    start_from_post(admin)
    editor = soup(admin.get(f"/admin/surveys/{SLUG}/edit"))
    counted = [i["value"] for i in editor.select("input[name=results_questions]")]
    assert counted == ["visiting_other_libraries", "international_member"]  # the yes/no ones
    saved = post(
        admin,
        f"/admin/surveys/{SLUG}/edit/settings",
        {
            "revision": revision(admin),
            "title.en": "Libraries Abroad",
            "results_shown": "yes",
            "results_public": "yes",
            "results_questions": ["international_member"],
            "results_min": "3",
        },
    )
    assert saved.status_code == 303
    assert post(admin, f"/admin/surveys/{SLUG}/edit/publish", {"revision": revision(admin)})
    results = admin.get(f"/api/surveys/{SLUG}/results").json()
    assert [q["key"] for q in results["questions"]] == ["international_member"]
    assert results["min_responses"] == 3
    downloaded = parse_definition(admin.get(f"/admin/surveys/{SLUG}/survey.yaml").text, "file")
    assert downloaded.results is not None
    assert downloaded.results.public is True
    # Unticking "Publish" hides the page again.
    assert post(admin, f"/admin/surveys/{SLUG}/edit", {}).status_code == 303
    post(
        admin,
        f"/admin/surveys/{SLUG}/edit/settings",
        {
            "revision": revision(admin),
            "title.en": "Libraries Abroad",
            "results_shown": "yes",
            "results_questions": ["international_member"],
        },
    )
    post(admin, f"/admin/surveys/{SLUG}/edit/publish", {"revision": revision(admin)})
    assert admin.get(f"/s/{SLUG}/results").status_code == 404
