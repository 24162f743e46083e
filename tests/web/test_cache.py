from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.settings import Settings
from survey.web.app import create_app
from survey.web.cache import SOURCE_MARK, SOURCE_MARK_IN_URL, TOKEN_MARK, RenderedPage
from tests.helpers import BUNDLED, definition_from, load


def test_filled_parts_are_escaped() -> None:
    page = RenderedPage(
        f'<input value="{TOKEN_MARK}"><input value="{SOURCE_MARK}">'
        f'<a href="/s/x?source={SOURCE_MARK_IN_URL}">'.encode()
    )
    html = page.fill(token="tok", source='https://b.example/"><script>x</script>?a=1&b=2')
    soup = BeautifulSoup(html.decode(), "html.parser")
    inputs = soup.select("input")
    assert inputs[0]["value"] == "tok"
    assert inputs[1]["value"] == 'https://b.example/"><script>x</script>?a=1&b=2'
    assert soup.select("script") == []
    assert soup.select_one("a")["href"] == (  # type: ignore[index]
        "/s/x?source=https%3A%2F%2Fb.example%2F%22%3E%3Cscript%3Ex%3C%2Fscript%3E%3Fa%3D1%26b%3D2"
    )


@pytest.fixture
def cached_client(database_url: str, database: Database) -> Iterator[TestClient]:
    from survey.definitions import load_file

    load(database, load_file(BUNDLED))
    settings = Settings(database_url=database_url, definition_cache_seconds=0.5)
    with TestClient(create_app(settings)) as client:
        yield client


def test_each_page_gets_its_own_token(cached_client: TestClient) -> None:
    tokens = {
        BeautifulSoup(cached_client.get("/s/libraries-abroad").text, "html.parser").select_one(
            'input[name="_token"]'
        )["value"]  # type: ignore[index]
        for _ in range(3)
    }
    assert len(tokens) == 3


def test_a_new_version_is_served_once_the_cache_ages(
    cached_client: TestClient, database: Database
) -> None:
    assert "Libraries Abroad" in cached_client.get("/s/libraries-abroad").text
    text = BUNDLED.read_text().replace(
        "  en: Libraries Abroad\n", "  en: Libraries Abroad 2027\n", 1
    )
    load(database, definition_from(text))
    time.sleep(0.6)
    assert "Libraries Abroad 2027" in cached_client.get("/s/libraries-abroad").text


def test_a_burst_of_first_requests_reads_the_survey_once(
    database: Database, bundled: SurveyDefinition
) -> None:
    """Sixty-four requests arriving together at a cold cache share one load."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from survey.web.cache import SurveyCache

    cache = SurveyCache(max_age_seconds=60)
    loads = 0

    async def burst() -> list[object]:
        async def load() -> object:
            nonlocal loads
            loads += 1
            await asyncio.sleep(0.05)  # the database's time, during which others arrive

            def read() -> object:
                with database.session() as session:
                    return cache.load(session, "libraries-abroad")

            return await asyncio.to_thread(read)

        return list(
            await asyncio.gather(*(cache.load_once("libraries-abroad", load) for _ in range(64)))
        )

    with ThreadPoolExecutor(1) as pool:
        results = pool.submit(lambda: asyncio.run(burst())).result()
    assert loads == 1
    assert all(result is results[0] for result in results)
    assert results[0] is not None


def test_made_up_hosts_neither_fill_the_page_cache_nor_push_pages_out() -> None:
    from survey.web.cache import PageCache

    cache = PageCache(max_bases=2)
    renders: list[str] = []

    def render(base: str) -> str:
        renders.append(base)
        return f"<a href='{base}'>"

    for base in ("https://real.example", "http://evil-1.example", "http://evil-2.example"):
        page = cache.get(("form", base), lambda b=base: render(b), base=base)  # type: ignore[misc]
        assert base.encode() in page.html
    # The real address was first: its page stays cached; the third host's is
    # rendered every time and never kept.
    cache.get(("form", "https://real.example"), lambda: render("x"), base="https://real.example")
    cache.get(
        ("form", "http://evil-2.example"), lambda: render("again"), base="http://evil-2.example"
    )
    assert renders == [
        "https://real.example",
        "http://evil-1.example",
        "http://evil-2.example",
        "again",
    ]
