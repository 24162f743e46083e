"""Embedding: the framed flow, where answers came from, who may frame, tokens,
CORS and oEmbed, through the real app."""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import select

from survey.cli import main
from survey.db import Database
from survey.models import Response
from tests.helpers import definition_from, form_token, load, post_form

FORM = "/s/libraries-abroad"
POST_URL = "https://alsc.example.org/blog/libraries-abroad/"
EMBED = f"{FORM}?embed=1&source={quote(POST_URL)}"
RESTRICTED = (
    "slug: members-only\ntitle: Members only\n"
    "embed_origins: [https://alsc.example.org, 'http://localhost:8080/']\n"
    "questions: [{key: a, type: yes_no, label: A, required: true}]\n"
)


def framing(response: Any) -> str:
    """The frame-ancestors directive of a response's Content-Security-Policy."""
    directives = [d.strip() for d in response.headers["content-security-policy"].split(";")]
    [directive] = [d for d in directives if d.startswith("frame-ancestors")]
    return directive


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def stored(database: Database) -> list[Response]:
    with database.session() as session:
        return list(session.exec(select(Response).order_by(Response.id)))


def test_the_embedded_form_has_no_chrome_and_keeps_its_post(client: TestClient) -> None:
    response = client.get(EMBED)
    assert response.status_code == 200
    page = soup(response.text)
    assert page.body is not None
    assert page.body.get("class") == ["embedded"]
    assert page.select_one(".skip-link") is None
    assert page.select_one('script[src="/static/frame.js"]') is not None
    form = page.select_one("form[data-survey-form]")
    assert form is not None
    assert form["action"] == f"{FORM}?embed=1"
    assert page.select_one('input[name="_source"]')["value"] == POST_URL  # type: ignore[index]
    new_tab = page.select_one(".new-tab a")
    assert new_tab is not None
    assert new_tab["target"] == "_blank"
    assert new_tab["href"] == f"{FORM}?source={quote(POST_URL, safe='')}"
    assert framing(response) == "frame-ancestors *"
    assert "x-frame-options" not in response.headers


def test_errors_and_thanks_stay_in_the_frame_and_the_source_is_stored(
    client: TestClient, database: Database, token: str
) -> None:
    failed = post_form(client, EMBED, {"_source": POST_URL, "lessons": "kept"})
    assert failed.status_code == 422
    page = soup(failed.text)
    assert page.body is not None
    assert page.body.get("class") == ["embedded"]
    assert page.select_one('input[name="_source"]')["value"] == POST_URL  # type: ignore[index]
    assert page.select_one("form")["action"] == f"{FORM}?embed=1"  # type: ignore[index]
    done = post_form(
        client,
        EMBED,
        {"_source": POST_URL, "visits_libraries": "often"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{FORM}/thanks?embed=1"
    thanks = client.get(done.headers["location"])
    assert soup(thanks.text).body.get("class") == ["embedded"]  # type: ignore[union-attr]
    assert [r.source for r in stored(database)] == [POST_URL]

    post_form(client, FORM, {"visits_libraries": "not_yet"})  # straight to the form: no source
    headers = {"Authorization": f"Bearer {token}"}
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/api/surveys/libraries-abroad/responses.csv", headers=headers).text
            )
        )
    )
    assert [(r["source"], r["visits_libraries"]) for r in rows] == [
        (POST_URL, "often"),
        ("", "not_yet"),
    ]
    only = client.get(
        f"/api/surveys/libraries-abroad/responses.csv?source={quote(POST_URL)}", headers=headers
    )
    assert [r["visits_libraries"] for r in csv.DictReader(io.StringIO(only.text))] == ["often"]


def test_cli_export_filters_by_source(
    client: TestClient,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    post_form(client, EMBED, {"_source": POST_URL, "visits_libraries": "often"})
    post_form(client, FORM, {"visits_libraries": "sometimes"})
    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    capsysbinary.readouterr()
    assert main(["export", "libraries-abroad", "--source", POST_URL]) == 0
    rows = list(csv.DictReader(io.StringIO(capsysbinary.readouterr().out.decode())))
    assert [r["visits_libraries"] for r in rows] == ["often"]


@pytest.mark.parametrize(
    "source", ["javascript:alert(1)", "not a url", "ftp://x.example/", "https://" + "a" * 2100]
)
def test_a_bad_source_is_dropped_not_stored(
    client: TestClient, database: Database, source: str
) -> None:
    response = client.get(f"{FORM}?embed=1&source={quote(source)}")
    assert soup(response.text).select_one('input[name="_source"]') is None
    post_form(client, f"{FORM}?embed=1", {"_source": source, "visits_libraries": "often"})
    assert [r.source for r in stored(database)] == [None]


def test_who_may_frame_which_page(client: TestClient, database: Database) -> None:
    load(database, definition_from(RESTRICTED))
    policy = framing(client.get("/s/members-only?embed=1"))
    assert policy == "frame-ancestors 'self' https://alsc.example.org http://localhost:8080"
    assert framing(client.get("/s/members-only/thanks")) == policy
    for path in (
        "/",
        "/docs",
        "/openapi.json",
        "/api/surveys/libraries-abroad",
        "/healthz",
        "/s/no-such-survey",
    ):
        response = client.get(path)
        assert framing(response) == "frame-ancestors 'none'", path
        assert response.headers["x-frame-options"] == "DENY", path


def test_embed_origins_must_be_origins() -> None:
    from survey.definitions import DefinitionError

    with pytest.raises(
        DefinitionError, match=re.escape("embed_origins: 'alsc.example.org/blog' is not an origin")
    ):
        definition_from(RESTRICTED.replace("https://alsc.example.org", "alsc.example.org/blog"))


@pytest.mark.parametrize(
    "token", ["", "forged", "eyJzIjoibGlicmFyaWVzLWFicm9hZCIsIm4iOiJ4In0.AAAAAA.BBBBBBBB"]
)
def test_a_missing_or_forged_token_keeps_the_answers(
    client: TestClient, database: Database, token: str
) -> None:
    fields: dict[str, Any] = {"visits_libraries": "often", "lessons": "My long answer"}
    if token:
        fields["_token"] = token
    response = client.post(FORM, data=fields)
    assert response.status_code == 422
    page = soup(response.text)
    summary = page.select_one(".error-summary")
    assert summary is not None
    assert "could not be checked" in summary.get_text()
    assert page.select_one("#lessons").get_text() == "\nMy long answer"  # type: ignore[union-attr]
    fresh = page.select_one('input[name="_token"]')["value"]  # type: ignore[index]
    assert fresh
    assert fresh != token
    assert stored(database) == []
    resent = client.post(FORM, data={**fields, "_token": fresh})
    assert resent.status_code == 303
    assert len(stored(database)) == 1


def test_a_stale_token_says_so_and_keeps_the_answers(
    client: TestClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import itsdangerous.timed

    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 2 * 86400)
    old = form_token(client, FORM)
    monkeypatch.setattr(itsdangerous.timed.time, "time", real_time)
    response = client.post(FORM, data={"_token": old, "visits_libraries": "sometimes"})
    assert response.status_code == 422
    assert "open too long" in soup(response.text).select_one(".error-summary").get_text()  # type: ignore[union-attr]
    assert soup(response.text).select_one('input[value="sometimes"]').has_attr("checked")  # type: ignore[union-attr]
    assert stored(database) == []


def test_a_token_for_another_survey_is_refused(client: TestClient, database: Database) -> None:
    load(database, definition_from(RESTRICTED))
    other = form_token(client, "/s/members-only")
    response = client.post(FORM, data={"_token": other, "visits_libraries": "often"})
    assert response.status_code == 422
    assert stored(database) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
    ],
)
def test_a_post_from_another_site_is_refused(
    client: TestClient, database: Database, headers: dict[str, str]
) -> None:
    response = post_form(client, FORM, {"visits_libraries": "often"}, headers=headers)
    assert response.status_code == 403
    assert "can only be sent from its own page" in soup(response.text).get_text()
    assert stored(database) == []


def test_a_post_from_our_own_page_is_accepted(client: TestClient, database: Database) -> None:
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert post_form(client, FORM, {"visits_libraries": "often"}, headers=own).status_code == 303
    assert len(stored(database)) == 1


def test_oembed(client: TestClient, database: Database) -> None:
    page = soup(client.get(FORM).text)
    link = page.select_one('link[rel="alternate"][type="application/json+oembed"]')
    assert link is not None
    href = str(link["href"])
    assert href.startswith("http://testserver/oembed?url=")
    body = client.get(href).json()
    assert body["type"] == "rich"
    assert body["version"] == "1.0"
    assert body["title"] == "Libraries Abroad"
    assert body["provider_name"] == "reader-survey"
    frame = soup(body["html"]).select_one("iframe")
    assert frame is not None
    assert frame["src"] == "http://testserver/s/libraries-abroad?embed=1"
    assert frame["title"] == "Libraries Abroad"
    assert (body["width"], body["height"]) == (800, 700)
    for url in (
        "https://elsewhere.example/s/libraries-abroad",
        "http://testserver/s/nope",
        "http://testserver/docs",
    ):
        assert client.get("/oembed", params={"url": url}).status_code == 404
    xml = client.get("/oembed", params={"url": "http://testserver" + FORM, "format": "xml"})
    assert xml.status_code == 501


def test_oembed_keeps_the_language_of_the_address(client: TestClient) -> None:
    """An author pastes the French form's address into WordPress: the page's
    discovery link carries ?lang=fr, and so does the frame it embeds."""
    page = soup(client.get(f"{FORM}?lang=fr").text)
    href = str(page.select_one('link[rel="alternate"][type="application/json+oembed"]')["href"])
    body = client.get(href).json()
    assert body["title"] == "Bibliothèques à l’étranger"
    frame = soup(body["html"]).select_one("iframe")
    assert frame["src"] == "http://testserver/s/libraries-abroad?embed=1&lang=fr"
    # A language the survey does not have is left out.
    other = client.get("/oembed", params={"url": f"http://testserver{FORM}?lang=xx"}).json()
    assert "lang=" not in other["html"]


def test_embed_script_is_small_and_self_contained(client: TestClient) -> None:
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert len(response.content) < 4096
    assert b"http" not in response.content.replace(b"https?", b"")


def test_embedded_page_weighs_under_30_kb_and_calls_no_other_host(client: TestClient) -> None:
    response = client.get(EMBED)
    page = soup(response.text)
    total = len(response.content)
    for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src")):
        for element in page.select(f"{tag}[{attribute}]"):
            address = str(element[attribute])
            if element.get("rel") == ["alternate"]:
                continue  # the oEmbed link is metadata, never fetched by the page
            assert address.startswith("/"), f"{address} is not on this host"
            total += len(client.get(address).content)
    assert total < 30 * 1024


def test_cors_answers_only_the_allowed_origins(client: TestClient, database: Database) -> None:
    load(database, definition_from(RESTRICTED))
    url = "/api/surveys/members-only/responses"
    allowed = {"Origin": "https://alsc.example.org"}
    pre = client.options(
        url,
        headers=allowed
        | {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "https://alsc.example.org"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "Content-Type" in pre.headers["access-control-allow-headers"]
    denied = client.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert denied.status_code == 403
    assert "access-control-allow-origin" not in denied.headers

    created = client.post(url, json={"answers": {"a": "yes"}}, headers=allowed)
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == "https://alsc.example.org"
    refused = client.post(url, json={"answers": {}}, headers=allowed)
    assert refused.status_code == 422
    assert refused.headers["access-control-allow-origin"] == "https://alsc.example.org"
    malformed = client.post(
        url, content=b"{", headers=allowed | {"content-type": "application/json"}
    )
    assert malformed.headers["access-control-allow-origin"] == "https://alsc.example.org"
    other = client.get("/api/surveys/members-only", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    # A survey that names no origins may be used from any site.
    # A survey that names no origins may be framed anywhere, but no other
    # site's script may read or post its answers (#13: any busy site could
    # make its visitors' browsers post answers).
    anywhere = client.get(
        "/api/surveys/libraries-abroad", headers={"Origin": "https://any.example"}
    )
    assert "access-control-allow-origin" not in anywhere.headers
    preflight = client.options(
        "/api/surveys/libraries-abroad/responses",
        headers={"Origin": "https://any.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403


def test_survey_embed_prints_the_snippets(
    database_url: str,
    bundled: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    assert main(["embed", "libraries-abroad", "--base-url", "https://surveys.example.org/"]) == 0
    out = capsys.readouterr().out
    assert (
        '<div data-survey="libraries-abroad" data-survey-title="Libraries Abroad">'
        '<a href="https://surveys.example.org/s/libraries-abroad">' in out
    )
    assert '<script src="https://surveys.example.org/embed.js" async></script>' in out
    # Without JavaScript the box's own link shows, once (#16: no <noscript> copy).
    assert "<noscript>" not in out
    assert '<iframe src="https://surveys.example.org/s/libraries-abroad?embed=1"' in out
