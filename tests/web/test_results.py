"""The public results page and its JSON (#17): counts with privacy built in,
featured quotes readers agreed to, unpublishing at once."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from survey.db import Database
from tests.helpers import (
    ADMIN_EMAIL,
    add_response,
    create_staff,
    csrf_token,
    definition_from,
    load,
    sign_in,
)

RESULTS = """\
slug: club
title: {{en: Book club, ar: نادي الكتاب}}
results: {{public: {public}, questions: [format, genre], min_responses: 6,
          quotes: {{consent: quote_ok, from: [why]}}}}
questions:
  - key: format
    type: single_choice
    label: {{en: Paper or screen, ar: ورق أم شاشة}}
    options: [Paper, Screen, Audio]
  - {{key: genre, type: single_choice, label: Genre, options: [Poems, Novels]}}
  - {{key: why, type: long_text, label: Why}}
  - {{key: email, type: email, label: Email}}
  - {{key: quote_ok, type: consent, label: You may quote me}}
"""


def club(database: Database, *, public: bool = True) -> None:
    load(database, definition_from(RESULTS.format(public="true" if public else "false")))


def answer(database: Database, n: int, **answers: Any) -> list[int]:
    return [add_response(database, slug="club", answers=answers) for _ in range(n)]


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def test_counts_show_after_min_responses_and_small_groups_are_folded(
    client: TestClient, database: Database
) -> None:
    club(database)
    answer(database, 5, format="paper", genre="poems")
    early = soup(client.get("/s/club/results"))
    assert "5 responses so far." in early.get_text()
    assert "shown once 6 people have answered it" in early.get_text()
    assert not early.select("svg.bar-chart")
    answer(database, 5, format="screen")
    answer(database, 3, format="audio")  # three people: could be singled out
    answer(database, 1, genre="novels")
    client.app.state.survey.results._kept.clear()  # type: ignore[attr-defined]
    page = soup(client.get("/s/club/results"))
    table = page.select_one('section[aria-labelledby="result-format"] table')
    rows = {tr.th.get_text(): tr.select("td")[0].get_text() for tr in table.select("tbody tr")}
    assert rows == {"Paper": "5", "Screen": "5"}  # audio's 3 are neither shown nor folded
    genre = page.select_one('section[aria-labelledby="result-genre"] table')
    assert {tr.th.get_text() for tr in genre.select("tbody tr")} == {"Poems"}
    data = client.get("/api/surveys/club/results").json()
    assert data["responses"] == 14
    [fmt, _genre] = data["questions"]
    assert fmt["shown"] is True
    assert [(a["label"], a["count"]) for a in fmt["answers"]] == [("Paper", 5), ("Screen", 5)]
    # Never a name or an email address: only the listed questions.
    assert "Email" not in page.get_text()


def test_five_or_more_small_answers_become_other_answers(
    client: TestClient, database: Database
) -> None:
    club(database)
    answer(database, 6, format="paper")
    answer(database, 3, format="screen")
    answer(database, 3, format="audio")
    data = client.get("/api/surveys/club/results").json()
    assert [(a["label"], a["count"]) for a in data["questions"][0]["answers"]] == [
        ("Paper", 6),
        ("Other answers", 6),
    ]


def test_quotes_need_consent_and_a_staff_member_who_features_them(
    client: TestClient, database: Database
) -> None:
    club(database)
    [agreed] = answer(
        database, 1, why="Paper smells of summer", quote_ok=True, email="ana@example.org"
    )
    [refused] = answer(database, 1, why="Screens at night", email="a@example.org")
    create_staff(database, ADMIN_EMAIL, "admin")
    sign_in(client, ADMIN_EMAIL)
    token = csrf_token(client)
    for response_id in (agreed, refused):
        page = soup(client.get(f"/admin/surveys/club/responses/{response_id}"))
        assert page.find("button", string="Feature this answer")
        featured = client.post(
            f"/admin/surveys/club/responses/{response_id}/feature",
            data={"_csrf": token, "featured": "yes"},
        )
        assert featured.status_code == 303
    client.app.state.survey.results._kept.clear()  # type: ignore[attr-defined]
    quotes = [b.get_text() for b in soup(client.get("/s/club/results")).select(".quote blockquote")]
    assert quotes == ["Paper smells of summer"]
    refused_page = soup(client.get(f"/admin/surveys/club/responses/{refused}")).get_text()
    assert "did not agree to be quoted" in refused_page
    # Erasing the person takes their words off the page at once (no cache to wait for).
    erased = client.post("/admin/erase", data={"_csrf": token, "email": "ana@example.org"})
    assert erased.status_code == 303
    assert not soup(client.get("/s/club/results")).select(".quote")


def test_unpublishing_hides_the_results_at_once(client: TestClient, database: Database) -> None:
    club(database)
    assert client.get("/s/club/results").status_code == 200
    club(database, public=False)
    assert client.get("/s/club/results").status_code == 404
    assert client.get("/api/surveys/club/results").status_code == 404
    assert client.get("/s/libraries-abroad/results").status_code == 404


def test_results_speak_the_readers_language_and_embed(
    client: TestClient, database: Database
) -> None:
    club(database)
    arabic = soup(client.get("/s/club/results?lang=ar"))
    assert arabic.html["dir"] == "rtl"
    assert "نادي الكتاب" in arabic.h1.get_text()
    assert arabic.select_one('section[aria-labelledby="result-format"] h2').get_text() == (
        "ورق أم شاشة"
    )
    embedded = soup(client.get("/s/club/results?embed=1"))
    assert "embedded" in embedded.body["class"]
    oembed = client.get(
        "/oembed", params={"url": "http://testserver/s/club/results", "format": "json"}
    ).json()
    assert 'src="http://testserver/s/club/results?embed=1"' in oembed["html"]
    assert (
        client.get(
            "/oembed", params={"url": "http://testserver/s/libraries-abroad/results"}
        ).status_code
        == 404
    )


def test_survey_embed_prints_the_results_snippet(
    database: Database, database_url: str, monkeypatch: Any, capsys: Any
) -> None:
    from survey.cli import main

    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    club(database, public=False)
    assert main(["embed", "club", "--results"]) != 0
    assert "does not publish its results" in capsys.readouterr().err
    club(database)
    assert main(["embed", "club", "--results", "--base-url", "https://s.example.org"]) == 0
    box = BeautifulSoup(capsys.readouterr().out, "html.parser")
    assert box.select_one("div")["data-survey-results"] == "club"
    assert box.select_one("script")["src"] == "https://s.example.org/embed.js"


def test_the_results_json_answers_the_surveys_own_sites(
    client: TestClient, database: Database
) -> None:
    text = RESULTS.format(public="true").replace(
        "questions:\n  - key: format",
        "embed_origins: [https://blog.example.org]\nquestions:\n  - key: format",
    )
    load(database, definition_from(text))
    own = client.get("/api/surveys/club/results", headers={"Origin": "https://blog.example.org"})
    assert own.headers["access-control-allow-origin"] == "https://blog.example.org"
    other = client.get("/api/surveys/club/results", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
