"""Two `survey serve` processes on two ports sharing one PostgreSQL, as two app
hosts would: the rate limit, duplicate suppression and the counts hold
across both."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import Server, create_postgres_database, drop_postgres_database, post_json

SURVEY = str(Path(sys.executable).with_name("survey"))
pytestmark = pytest.mark.slow


@pytest.fixture
def two_servers(postgres_server_url: str) -> Iterator[tuple[Server, Server, str]]:
    url, admin = create_postgres_database(postgres_server_url)
    env = {"SURVEY_DATABASE_URL": url, "SURVEY_RATE_LIMIT": "5/minute"}
    first = Server([SURVEY], env)
    try:
        first.wait_ready()  # migrates; the second then finds the schema in place
        second = Server([SURVEY], env)
        try:
            second.wait_ready()
            yield first, second, url
        finally:
            second.stop()
    finally:
        first.stop()
        drop_postgres_database(admin, url)


def post(server: Server, key: str | None = None) -> tuple[int, dict[str, object]]:
    return post_json(
        f"{server.url}/api/surveys/libraries-abroad/responses",
        {"answers": {"visits_libraries": "often"}},
        {"Idempotency-Key": key} if key else None,
    )


def test_limits_duplicates_and_counts_hold_across_two_servers(
    two_servers: tuple[Server, Server, str],
) -> None:
    first, second, url = two_servers
    # The same Idempotency-Key sent to each server: one response.
    status_a, body_a = post(first, key="retry-42")
    status_b, body_b = post(second, key="retry-42")
    assert (status_a, status_b) == (201, 201)
    assert body_a["id"] == body_b["id"]
    # Five a minute per client and survey, counted together: two used above.
    statuses = [post(server)[0] for server in (first, second) * 3]
    assert statuses == [201, 201, 201, 429, 429, 429]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT count(*), count(DISTINCT id) FROM response").one()
            hits = conn.exec_driver_sql("SELECT sum(hits) FROM rate_limit_hit").scalar_one()
    finally:
        engine.dispose()
    assert tuple(rows) == (4, 4)
    assert hits == 8  # every attempt counted once, whichever server took it


def test_two_servers_never_store_more_than_max_responses(
    postgres_server_url: str, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    (tmp_path / "capped.yaml").write_text(
        "slug: capped\ntitle: Capped\nmax_responses: 5\n"
        "questions:\n  - {key: note, type: short_text, label: Note}\n",
        encoding="utf-8",
    )
    url, admin = create_postgres_database(postgres_server_url)
    env = {"SURVEY_DATABASE_URL": url, "SURVEY_DEFINITIONS_DIR": str(tmp_path)}
    first = Server([SURVEY], env)
    try:
        first.wait_ready()
        second = Server([SURVEY], env)
        try:
            second.wait_ready()

            def send(i: int) -> int:
                server = (first, second)[i % 2]
                return post_json(
                    f"{server.url}/api/surveys/capped/responses", {"answers": {"note": str(i)}}
                )[0]

            with ThreadPoolExecutor(max_workers=16) as pool:
                statuses = list(pool.map(send, range(40)))
        finally:
            second.stop()
    finally:
        first.stop()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT count(*) FROM response").scalar_one()
    finally:
        engine.dispose()
        drop_postgres_database(admin, url)
    assert sorted(statuses) == [201] * 5 + [410] * 35
    assert stored == 5
