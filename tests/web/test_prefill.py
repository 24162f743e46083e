"""Answers in the form's address, hidden fields, and the newsletter block
(#17): what a reader sees pre-filled, what is stored only once sent."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from survey.cli import main
from survey.db import Database
from tests.helpers import (
    ADMIN_EMAIL,
    create_staff,
    definition_from,
    form_token,
    load,
    sign_in,
    stored_answers,
)

FORM = "/s/libraries-abroad"
CAMPAIGN = """\
slug: spring
title: Spring reading
questions:
  - {key: liked, type: yes_no, label: "Did you like the list?"}
  - {key: utm_campaign, type: hidden, label: Campaign, max_length: 20}
  - {key: member_type, type: hidden, label: Member type}
"""


def page(response: object) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")  # type: ignore[attr-defined]


def test_answers_in_the_address_are_filled_in_and_nothing_is_stored(
    client: TestClient, database: Database
) -> None:
    shown = page(
        client.get(
            f"{FORM}?visits_libraries=often&based_in=CA&resources=webinars&resources=booklists"
            "&international_member=maybe&places=Toronto&lang=fr"
        )
    )
    checked = {(i["name"], i["value"]) for i in shown.select("input[checked]")}
    assert ("visits_libraries", "often") in checked
    assert {("resources", "webinars"), ("resources", "booklists")} <= checked
    # A value its question does not accept is ignored, silently.
    assert not shown.select("input[name=international_member][checked]")
    assert shown.select_one("select#based_in option[selected]")["value"] == "CA"
    assert shown.html["lang"] == "fr"  # the page parameters still work
    assert stored_answers(database) == []
    # The reader may change a pre-filled answer before sending.
    token = form_token(client, f"{FORM}?visits_libraries=often")
    sent = client.post(FORM, data={"_token": token, "visits_libraries": "sometimes"})
    assert sent.status_code == 303
    assert stored_answers(database) == [{"visits_libraries": "sometimes"}]
    # Without answers in the address the page is the cached one, unfilled.
    plain = page(client.get(FORM))
    assert not plain.select("input[name=visits_libraries][checked]")


def test_a_hidden_field_comes_from_the_address_and_is_stored_exported_and_filtered(
    client: TestClient, database: Database
) -> None:
    load(database, definition_from(CAMPAIGN))
    shown = page(client.get("/s/spring?utm_campaign=newsletter-may&member_type=" + "x" * 300))
    hidden = {i["name"]: i["value"] for i in shown.select("input[type=hidden]")}
    assert hidden["utm_campaign"] == "newsletter-may"
    assert hidden["member_type"] == ""  # too long for the field: ignored
    # Not shown: no label, no box.
    assert "Campaign" not in shown.get_text()
    token = hidden["_token"]
    client.post(
        "/s/spring", data={"_token": token, "liked": "yes", "utm_campaign": "newsletter-may"}
    )
    assert stored_answers(database) == [{"liked": "yes", "utm_campaign": "newsletter-may"}]
    create_staff(database, ADMIN_EMAIL, "admin")
    sign_in(client, ADMIN_EMAIL)
    rows = list(
        csv.DictReader(io.StringIO(client.get("/admin/surveys/spring/download?format=csv").text))
    )
    assert rows[0]["utm_campaign"] == "newsletter-may"
    table = page(client.get("/admin/surveys/spring/responses?f.utm_campaign=newsletter-may"))
    assert "1 response matches the filters" in table.select_one(".result-count").get_text()
    none = page(client.get("/admin/surveys/spring/responses?f.utm_campaign=other"))
    assert "0 responses match the filters" in none.select_one(".result-count").get_text()
    # The filter form offers a box to type the value in.
    assert page(client.get("/admin/surveys/spring/responses")).select_one(
        "input#f-utm_campaign[type=text]"
    )


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        ("{key: c, type: hidden, label: C, required: true}", "cannot be required"),
        (
            "{key: c, type: hidden, label: C, show_if: {liked: [yes]}}",
            "has no show_if",
        ),
    ],
)
def test_a_hidden_field_is_never_asked(question: str, problem: str) -> None:
    from survey.definitions import DefinitionError

    text = (
        "slug: s\ntitle: S\nquestions:\n  - {key: liked, type: yes_no, label: L}\n"
        f"  - {question}\n"
    )
    with pytest.raises(DefinitionError, match=problem):
        definition_from(text)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, bundled: object) -> str:
    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    return database_url


def test_a_newsletter_block_has_one_link_per_answer(
    env: str, capsys: pytest.CaptureFixture[str], client: TestClient, database: Database
) -> None:
    assert (
        main(
            [
                "embed",
                "libraries-abroad",
                "--email",
                "visits_libraries",
                "--base-url",
                "http://testserver",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    html, _, text = out.partition("Text version")
    block = BeautifulSoup(html, "html.parser")
    links = {a.get_text(): a["href"] for a in block.select("a")}
    assert links == {
        "Yes, whenever I can": "http://testserver/s/libraries-abroad?visits_libraries=often",
        "Sometimes": "http://testserver/s/libraries-abroad?visits_libraries=sometimes",
        "Not yet": "http://testserver/s/libraries-abroad?visits_libraries=not_yet",
    }
    assert all("background:#1d4f91" in a["style"] for a in block.select("a"))  # inline CSS
    assert "- Sometimes: http://testserver/s/libraries-abroad?visits_libraries=sometimes" in text
    # Following a link stores nothing (mail scanners follow links); it fills the form.
    opened = page(client.get(links["Sometimes"].removeprefix("http://testserver")))
    assert opened.select_one("input[name=visits_libraries][value=sometimes]").has_attr("checked")
    assert stored_answers(database) == []
    # In Arabic: the labels, the direction and the form's language.
    assert main(["embed", "libraries-abroad", "--email", "visits_libraries", "--lang", "ar"]) == 0
    arabic = BeautifulSoup(capsys.readouterr().out.partition("Text version")[0], "html.parser")
    assert arabic.table["dir"] == "rtl"
    assert arabic.select("a")[0]["href"].endswith("visits_libraries=often&lang=ar")


def test_a_newsletter_block_needs_a_one_choice_question(
    env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["embed", "libraries-abroad", "--email", "lessons"]) != 0
    assert "lessons' is long_text" in capsys.readouterr().err
    assert main(["embed", "libraries-abroad", "--email", "nope"]) != 0
    assert "no question 'nope'" in capsys.readouterr().err
