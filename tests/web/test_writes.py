"""Group commit: many responses, one transaction, and no bad row taking good
ones down with it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from sqlmodel import select

from survey import store
from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.models import Response
from survey.web.writes import ResponseWriter
from tests.helpers import stored_answers


def run(coroutine_function):  # type: ignore[no-untyped-def]
    """asyncio.run on a thread of its own: the browser tests' Playwright keeps
    an event loop running on the main thread for the whole session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function())).result()


def ids(database: Database) -> tuple[int, int]:
    with database.session() as session:
        survey = store.get_survey(session, slug="libraries-abroad")
        assert survey is not None
        assert survey.id is not None
        return survey.id, store.current_version(session, survey=survey).id or 0


def test_concurrent_inserts_share_a_commit_and_all_get_their_ids(
    database: Database, bundled: SurveyDefinition
) -> None:
    survey_id, version_id = ids(database)

    async def burst() -> list[tuple[int, object]]:
        writer = ResponseWriter(database)
        return await asyncio.gather(
            *(
                writer.insert(survey_id=survey_id, survey_version_id=version_id, answers={"n": n})
                for n in range(50)
            )
        )

    results = run(burst)
    with database.session() as session:
        rows = session.exec(select(Response).order_by(Response.id)).all()
    assert sorted(r[0] for r in results) == [row.id for row in rows]
    assert sorted(row.answers["n"] for row in rows) == list(range(50))


def test_a_bad_row_fails_alone(database: Database, bundled: SurveyDefinition) -> None:
    survey_id, version_id = ids(database)

    async def burst() -> list[object]:
        writer = ResponseWriter(database)
        good = [
            writer.insert(survey_id=survey_id, survey_version_id=version_id, answers={"n": n})
            for n in range(5)
        ]
        bad = writer.insert(survey_id=survey_id, survey_version_id=999_999, answers={"n": -1})
        return await asyncio.gather(*good[:2], bad, *good[2:], return_exceptions=True)

    results = run(burst)
    assert isinstance(results[2], sa.exc.IntegrityError)
    assert all(isinstance(r, tuple) for i, r in enumerate(results) if i != 2)
    assert sorted(answers["n"] for answers in stored_answers(database)) == [0, 1, 2, 3, 4]


def test_duplicates_in_one_batch_share_the_first_response(
    database: Database, bundled: SurveyDefinition
) -> None:
    survey_id, version_id = ids(database)

    async def burst() -> list[tuple[int, object]]:
        writer = ResponseWriter(database)
        return await asyncio.gather(
            *(
                writer.insert(
                    survey_id=survey_id,
                    survey_version_id=version_id,
                    answers={"n": n},
                    submission_key="form:same" if n < 3 else f"form:{n}",
                )
                for n in range(5)
            )
        )

    results = run(burst)
    assert results[0] == results[1] == results[2]
    assert len({r[0] for r in results}) == 3
    assert sorted(a["n"] for a in stored_answers(database)) == [0, 3, 4]


def test_a_burst_never_stores_more_than_the_cap(
    database: Database, bundled: SurveyDefinition
) -> None:
    """Thirty answers in one burst for a survey that takes three: three are
    stored, the rest refused; a resent submission key gets its first response."""
    survey_id, version_id = ids(database)

    async def burst() -> list[object]:
        writer = ResponseWriter(database)
        return await asyncio.gather(
            *(
                writer.insert(
                    survey_id=survey_id,
                    survey_version_id=version_id,
                    answers={"n": n},
                    submission_key=f"form:{n}",
                    cap=3,
                )
                for n in range(30)
            ),
            return_exceptions=True,
        )

    results = run(burst)
    stored = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, store.SurveyFull)]
    assert len(stored) == 3
    assert len(refused) == 27
    assert [a["n"] for a in stored_answers(database)] == [0, 1, 2]
    # The form behind the first response sent again, now that the survey is full.
    again = run(
        lambda: ResponseWriter(database).insert(
            survey_id=survey_id,
            survey_version_id=version_id,
            answers={"n": 0},
            submission_key="form:0",
            cap=3,
        )
    )
    assert again[0] == stored[0][0]  # type: ignore[index]
