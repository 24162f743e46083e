"""The form as a member meets it: what the page shows, what a submission stores."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import select

from survey.db import Database
from survey.definitions import load_file
from survey.models import Response
from tests.helpers import BUNDLED, definition_from, form_token, load, post_form

FORM = "/s/libraries-abroad"


def page(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def stored(database: Database) -> list[dict[str, object]]:
    with database.session() as session:
        return [r.answers for r in session.exec(select(Response).order_by(Response.id))]


def test_index_lists_open_surveys(client: TestClient) -> None:
    soup = page(client.get("/").text)
    links = [(a.get_text(strip=True), a["href"]) for a in soup.select(".survey-list a")]
    assert links == [("Libraries Abroad", FORM)]


def test_the_form_shows_every_question_with_a_label(client: TestClient) -> None:
    response = client.get(FORM)
    assert response.status_code == 200
    soup = page(response.text)
    assert soup.h1 is not None
    assert soup.h1.get_text() == "Libraries Abroad"
    legends = [legend.get_text(" ", strip=True) for legend in soup.select("legend")]
    assert "Are you visiting other libraries when you go on vacation?" in legends
    assert "How have you been using our resources? (optional)" in legends
    # Every text field has a label pointing at it.
    for field in soup.select("input[type=text], input[type=email], textarea, select"):
        assert soup.select_one(f'label[for="{field["id"]}"]') is not None, field["id"]
    radios = soup.select('input[name="visits_libraries"]')
    assert [r["value"] for r in radios] == ["often", "sometimes", "not_yet"]
    assert radios[0]["id"] == "visits_libraries"  # the error summary links here
    countries = soup.select('select[name="based_in"] option')
    assert len(countries) == 250  # a blank choice and 249 countries
    assert any(o.get_text() == "Saudi Arabia" and o["value"] == "SA" for o in countries)
    assert soup.select_one('[data-question="lessons"]')["data-show-if"] == (  # type: ignore[index]
        '{"visits_libraries": ["often", "sometimes"]}'
    )
    assert soup.select_one('input[name="email"]')["autocomplete"] == "email"  # type: ignore[index]


def test_a_good_submission_is_stored_and_thanked(client: TestClient, database: Database) -> None:
    response = post_form(
        client,
        FORM,
        {
            "visits_libraries": "often",
            "lessons": "Story walks in Toronto",
            "international_member": "yes",
            "based_in": "CA",
            "resources": ["webinars", "booklists"],
            "resources_other": "",
            "quote_consent": "yes",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/s/libraries-abroad/thanks"
    assert stored(database) == [
        {
            "visits_libraries": "often",
            "lessons": "Story walks in Toronto",
            "international_member": "yes",
            "based_in": "CA",
            "resources": ["webinars", "booklists"],
            "quote_consent": True,
        }
    ]
    thanks = page(client.get(response.headers["location"]).text)
    assert "Thank you! We read every answer" in thanks.get_text()


def test_an_invalid_submission_keeps_every_value_and_explains_each_error(
    client: TestClient, database: Database
) -> None:
    typed = {
        "lessons": "Quiet <rooms> & maker spaces",
        "international_member": "yes",
        "based_in": "SA",
        "resources": ["journal", "other"],
        "resources_other": "",
        "name": "Nour",
        "email": "nour@",
    }
    response = post_form(client, FORM, typed)
    assert response.status_code == 422
    soup = page(response.text)
    assert soup.title is not None
    assert soup.title.get_text().startswith("Error: ")
    summary = soup.select_one(".error-summary")
    assert summary is not None
    assert summary.get("role") == "alert"
    links = [(a["href"], a.get_text()) for a in summary.select("a")]
    # Each problem names its question: "Choose an option" alone says not which.
    label = {q.key: q.label for q in load_file(BUNDLED).questions}
    assert links == [
        ("#visits_libraries", f"{label['visits_libraries']} – Choose an option"),
        ("#resources_other", f"{label['resources']} – Describe your answer for 'Other'"),
        (
            "#email",
            f"{label['email']} – Enter an email address in the correct format, like "
            "name@example.com",
        ),
    ]
    for target, _ in links:
        assert soup.select_one(target) is not None
    # The message sits beside its field, tied to it for screen readers.
    email = soup.select_one("#email")
    assert email is not None
    assert email["value"] == "nour@"
    assert "email-error" in str(email.get("aria-describedby"))
    assert soup.select_one("#email-error") is not None
    # Everything typed is still there.
    textarea = soup.select_one("#lessons")
    assert textarea is not None
    assert textarea.get_text() == "\nQuiet <rooms> & maker spaces"
    assert soup.select_one('#based_in option[value="SA"]').has_attr("selected")  # type: ignore[union-attr]
    checked = [i["value"] for i in soup.select('input[name="resources"][checked]')]
    assert checked == ["journal", "other"]
    assert soup.select_one("#name")["value"] == "Nour"  # type: ignore[index]
    assert stored(database) == []


def test_hostile_text_is_shown_escaped(client: TestClient) -> None:
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    response = post_form(client, FORM, {"name": hostile, "email": "bad"})
    assert response.status_code == 422
    assert "<script>alert(1)" not in response.text
    assert page(response.text).select_one("#name")["value"] == hostile  # type: ignore[index]
    assert not page(response.text).select("img[onerror]")


def test_a_hidden_question_answer_is_dropped(client: TestClient, database: Database) -> None:
    response = post_form(
        client, FORM, {"visits_libraries": "not_yet", "lessons": "typed before changing my mind"}
    )
    assert response.status_code == 303
    assert stored(database) == [{"visits_libraries": "not_yet"}]


def test_unknown_survey_is_a_404_page(client: TestClient) -> None:
    response = client.get("/s/no-such-survey")
    assert response.status_code == 404
    assert "Page not found" in page(response.text).get_text()
    assert client.post("/s/no-such-survey", data={"a": "b"}).status_code == 404


def test_a_closed_survey_says_so_with_410(client: TestClient, database: Database) -> None:
    load(
        database,
        definition_from(
            "slug: old\ntitle: Old poll\nstatus: closed\n"
            "questions: [{key: a, type: short_text, label: A}]\n"
        ),
    )
    load(
        database,
        definition_from(
            "slug: expired\ntitle: Expired\ncloses_at: 2020-01-01T00:00:00Z\n"
            "questions: [{key: a, type: short_text, label: A}]\n"
        ),
    )
    for slug, title in (("old", "Old poll"), ("expired", "Expired")):
        response = client.get(f"/s/{slug}")
        assert response.status_code == 410
        assert f"{title} is closed" in page(response.text).get_text()
        assert client.post(f"/s/{slug}", data={"a": "late"}).status_code == 410
    assert stored(database) == []
    assert "Old poll" not in client.get("/").text


def test_invalid_utf8_gets_a_clear_message_and_stores_nothing(
    client: TestClient, database: Database
) -> None:
    response = client.post(
        FORM,
        content=b"visits_libraries=often&lessons=caf%E9",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert "not sent as UTF-8" in page(response.text).get_text()
    assert stored(database) == []


def test_a_body_over_64_kib_is_refused_with_413(client: TestClient, database: Database) -> None:
    body = b"visits_libraries=often&lessons=" + b"a" * (65 * 1024)
    response = client.post(
        FORM, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert "larger than this survey accepts" in page(response.text).get_text()

    def chunks():  # type: ignore[no-untyped-def]
        yield b"visits_libraries=often&lessons="
        for _ in range(70):
            yield b"a" * 1024

    streamed = client.post(
        FORM, content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413
    assert "Too much was sent" in page(streamed.text).get_text()
    assert stored(database) == []


def test_the_form_is_readable_in_multipart_too(client: TestClient, database: Database) -> None:
    token = form_token(client, FORM)
    response = client.post(
        FORM, files={"_token": (None, token), "visits_libraries": (None, "sometimes")}
    )
    assert response.status_code == 303
    assert stored(database) == [{"visits_libraries": "sometimes"}]


def test_the_same_form_sent_twice_is_stored_once(client: TestClient, database: Database) -> None:
    token = form_token(client, FORM)
    fields = {"_token": token, "visits_libraries": "often", "lessons": "Double click"}
    first = client.post(FORM, data=fields)
    again = client.post(FORM, data=fields)  # a double click, a retry, the back button
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == f"{FORM}/thanks"
    assert stored(database) == [{"visits_libraries": "often", "lessons": "Double click"}]
    # A new page view is a new form: its answers are a new response.
    assert post_form(client, FORM, {"visits_libraries": "sometimes"}).status_code == 303
    assert len(stored(database)) == 2


def test_the_form_page_reads_its_query_as_documented(client: TestClient) -> None:
    """The page is served by a plain route (the hot path) but keeps the
    contract its OpenAPI description states."""
    operation = client.get("/openapi.json").json()["paths"]["/s/{slug}"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"slug", "embed", "source", "lang"}
    assert set(operation["responses"]) >= {"200", "400", "404", "410"}
    for flag in ("1", "true", "yes", "on"):
        embedded = page(client.get(f"{FORM}?embed={flag}").text)
        assert embedded.select_one("form input[name=_token]") is not None
        assert "embed=1" in str(embedded.select_one("form")["action"])
    unreadable = client.get(f"{FORM}?embed=maybe")
    assert unreadable.status_code == 400
    assert "embed" in page(unreadable.text).get_text(" ")
    assert client.get("/s/no-such-survey").status_code == 404
    head = client.head(FORM)
    assert head.status_code == 200
    assert head.content == b""


def test_error_pages_speak_the_language_asked_for(client: TestClient) -> None:
    arabic = page(client.get("/s/no-such-survey?lang=ar").text)
    assert arabic.html is not None
    assert arabic.html["lang"] == "ar"
    assert arabic.html["dir"] == "rtl"
    french = page(client.get("/nowhere", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).text)
    assert french.html is not None
    assert french.html["lang"] == "fr"
    assert "Page not found" not in french.get_text(" ")


def test_a_nul_character_in_a_form_post_is_a_400_with_a_message(client: TestClient) -> None:
    token = form_token(client, FORM)
    for extra in ({"lessons": "a\x00b"}, {"_homepage": "x\x00"}):
        sent = post_form(client, FORM, {"visits_libraries": "often", "_token": token, **extra})
        assert sent.status_code == 400
        assert "NUL" in page(sent.text).get_text(" ")


def test_the_survey_list_speaks_the_language_asked_for(client: TestClient) -> None:
    arabic = page(client.get("/", headers={"Accept-Language": "ar"}).text)
    assert arabic.html is not None
    assert (arabic.html["lang"], arabic.html["dir"]) == ("ar", "rtl")
    [link] = arabic.select(".survey-list a")
    assert link["href"] == "/s/libraries-abroad?lang=ar"
    assert link.get_text(strip=True) == "مكتبات في الخارج"
    spanish = page(client.get("/?lang=es").text)
    [link] = spanish.select(".survey-list a")
    assert link["href"] == "/s/libraries-abroad?lang=es"
    assert link.get_text(strip=True) not in ("", "Libraries Abroad")


def test_a_badly_formed_email_is_told_in_the_readers_language(
    client: TestClient, database: Database
) -> None:
    load(
        database,
        definition_from(
            "slug: mail\ntitle: {en: Mail, fr: Courriel}\n"
            "questions: [{key: e, type: email, label: {en: Email, fr: Courriel}}]\n"
        ),
    )
    sent = post_form(client, "/s/mail?lang=fr", {"e": "not-an-address"})
    assert sent.status_code == 422
    assert "Saisissez une adresse e-mail au bon format" in page(sent.text).get_text(" ")
    assert "Enter an email address in the correct format" not in sent.text


def test_limits_are_told_before_the_reader_gets_them_wrong(
    client: TestClient, database: Database
) -> None:
    load(
        database,
        definition_from(
            "slug: limits\ntitle: {en: Limits, ar: حدود}\nquestions:\n"
            "  - {key: age, type: number, label: {en: Age, ar: العمر}, min: 5, max: 120,"
            " integer: true}\n"
            "  - {key: picks, type: multiple_choice, label: {en: Picks, ar: اختيارات},"
            " options: [a, b, c, d], max_choices: 2}\n"
        ),
    )
    shown = page(client.get("/s/limits").text)
    age = shown.select_one("#age")
    assert age is not None
    hint = shown.select_one(f"#{age['aria-describedby']}")
    assert hint is not None
    assert hint.get_text(strip=True) == "A whole number from 5 to 120."
    assert "Choose up to 2." in shown.get_text(" ")
    arabic = page(client.get("/s/limits?lang=ar").text).get_text(" ")
    assert "عدد صحيح من 5 إلى 120" in arabic
    assert "اختر حتى 2" in arabic
