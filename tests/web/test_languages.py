"""The form in the reader's language, through the real app on SQLite and
PostgreSQL: chosen by ?lang, then Accept-Language, then the survey's own;
kept through errors and the thanks page without cookies; right-to-left in
Arabic; stored with the response and exported."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from survey.db import Database
from tests.helpers import definition_from, form_token, load, stored_answers
from tests.test_i18n import TRANSLATED

FORM = "/s/reading"


@pytest.fixture
def translated(database: Database, client: TestClient) -> TestClient:
    load(database, definition_from(TRANSLATED))
    return client


def page(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def test_lang_then_accept_language_then_the_survey_language(translated: TestClient) -> None:
    english = page(translated.get(FORM))
    assert english.html["lang"] == "en"
    assert english.html["dir"] == "ltr"
    assert english.h1.get_text() == "Reading habits"
    french = page(translated.get(FORM, headers={"Accept-Language": "de, fr;q=0.8"}))
    assert french.html["lang"] == "fr"
    assert french.h1.get_text() == "Habitudes de lecture"
    assert french.select_one("button[type=submit]").get_text() == "Envoyer les réponses"
    arabic = page(translated.get(f"{FORM}?lang=ar", headers={"Accept-Language": "fr"}))
    assert arabic.html["lang"] == "ar"
    assert arabic.html["dir"] == "rtl"
    assert arabic.h1.get_text() == "عادات القراءة"
    labels = [label.get_text() for label in arabic.select(".choice__label")]
    assert labels == ["كل يوم", "Every week"]  # a missing translation falls back, per text
    assert page(translated.get(f"{FORM}?lang=de")).html["lang"] == "en"


def test_the_switcher_lists_the_survey_languages(translated: TestClient) -> None:
    switcher = page(translated.get(f"{FORM}?lang=es")).select_one("nav.languages")
    links = {a["hreflang"]: (a["href"], a.get("aria-current")) for a in switcher.select("a")}
    assert links == {
        "en": (f"{FORM}?lang=en", None),
        "es": (f"{FORM}?lang=es", "true"),
        "fr": (f"{FORM}?lang=fr", None),
        "ar": (f"{FORM}?lang=ar", None),
    }
    assert switcher.select_one('a[hreflang="ar"]').get_text() == "العربية"
    # The bundled survey speaks all four; a survey in one language has no switcher.
    bundled = page(translated.get("/s/libraries-abroad"))
    assert len(bundled.select("nav.languages a")) == 4


def test_a_survey_in_one_language_has_no_switcher(
    translated: TestClient, database: Database
) -> None:
    load(
        database,
        definition_from("slug: one\ntitle: One\nquestions: [{key: a, type: yes_no, label: A}]\n"),
    )
    shown = page(translated.get("/s/one", headers={"Accept-Language": "ar"}))
    assert shown.select_one("nav.languages") is None
    assert shown.html["lang"] == "en"


def test_countries_are_named_and_sorted_in_the_reader_language(translated: TestClient) -> None:
    options = page(translated.get(f"{FORM}?lang=fr")).select("#where option")
    names = {o["value"]: o.get_text() for o in options if o["value"]}
    assert names["DE"] == "Allemagne"
    assert names["SA"] == "Arabie saoudite"
    arabic = page(translated.get(f"{FORM}?lang=ar")).select("#where option")
    assert {o["value"]: o.get_text() for o in arabic if o["value"]}["CA"] == "كندا"
    assert arabic[0].get_text() == "اختر بلدًا"


def test_errors_and_thanks_stay_in_the_language(translated: TestClient, database: Database) -> None:
    path = f"{FORM}?lang=ar"
    refused = translated.post(path, data={"_token": form_token(translated, path)})
    assert refused.status_code == 422
    shown = page(refused)
    assert shown.html["dir"] == "rtl"
    assert shown.select_one(".error-summary h2").get_text() == "توجد مشكلة"
    # The summary names the question, in the reader's language.
    assert shown.select_one(".error-summary a").get_text() == "كم مرة تقرأ؟ – اختر إجابة"
    assert shown.form["action"] == path  # the language travels in the URL, not a cookie
    sent = translated.post(path, data={"_token": form_token(translated, path), "often": "daily"})
    assert sent.status_code == 303
    assert sent.headers["location"] == "/s/reading/thanks?lang=ar"
    thanks = page(translated.get(sent.headers["location"]))
    assert thanks.h1.get_text() == "تم إرسال إجاباتك"
    assert "set-cookie" not in sent.headers
    assert stored_answers(database) == [{"often": "daily"}]


def test_the_response_records_its_language_and_the_csv_shows_it(
    translated: TestClient, token: str
) -> None:
    for lang in ("fr", "ar"):
        path = f"{FORM}?lang={lang}"
        sent = translated.post(
            path, data={"_token": form_token(translated, path), "often": "daily"}
        )
        assert sent.status_code == 303
    exported = translated.get(
        "/api/surveys/reading/responses.csv", headers={"Authorization": f"Bearer {token}"}
    )
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["language"], r["often"]) for r in rows] == [("fr", "daily"), ("ar", "daily")]
    assert list(rows[0])[:6] == [
        "response_id",
        "submitted_at",
        "survey_version",
        "source",
        "language",
        "often",
    ]


def test_closed_and_not_found_pages_speak_the_language(
    translated: TestClient, database: Database
) -> None:
    load(database, definition_from(TRANSLATED.replace("lang: en\n", "lang: en\nstatus: closed\n")))
    closed = translated.get(f"{FORM}?lang=es")
    assert closed.status_code == 410
    assert page(closed).h1.get_text() == "Hábitos de lectura está cerrada"
    assert page(closed).html["lang"] == "es"
