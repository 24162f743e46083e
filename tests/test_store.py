from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from survey import store
from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.models import ApiToken, Response
from tests.helpers import add_response, definition_from, load, stored_answers

V1 = """
slug: demo
title: Demo
questions:
  - {key: colour, type: single_choice, label: Colour, options: [Red, Blue]}
  - {key: why, type: short_text, label: Why}
"""


def test_loading_creates_then_versions_only_when_questions_change(database: Database) -> None:
    assert load(database, definition_from(V1)) == store.LoadResult("demo", 1, "created")
    assert load(database, definition_from(V1)) == store.LoadResult("demo", 1, "unchanged")
    retitled = V1.replace("title: Demo", "title: Renamed")
    assert load(database, definition_from(retitled)) == store.LoadResult("demo", 1, "updated")
    changed = retitled.replace("label: Why", "label: Why not")
    assert load(database, definition_from(changed)) == store.LoadResult("demo", 2, "new version")
    with database.session() as session:
        survey = store.get_survey(session, slug="demo")
        assert survey is not None
        assert survey.definition["title"] == "Renamed"
        versions = store.survey_versions(session, survey_id=survey.id or 0)
    assert [v.version for v in versions] == [2, 1]
    assert versions[1].questions[1]["label"] == "Why"


def test_a_response_keeps_the_version_it_answered(database: Database) -> None:
    load(database, definition_from(V1))
    new_id = add_response(database, slug="demo", answers={"colour": "red"})
    load(database, definition_from(V1.replace("label: Why", "label: Because")))
    with database.session() as session:
        row = session.exec(select(Response)).one()
        versions = store.survey_versions(session, survey_id=row.survey_id)
    assert row.id == new_id
    assert {v.id: v.version for v in versions}[row.survey_version_id] == 1
    assert row.answers == {"colour": "red"}


def test_timestamps_come_back_as_utc(database: Database) -> None:
    load(database, definition_from(V1))
    before = datetime.now(UTC)
    add_response(database, slug="demo", answers={})
    with database.session() as session:
        row = session.exec(select(Response)).one()
    assert row.submitted_at.tzinfo is not None
    assert row.submitted_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= row.submitted_at <= datetime.now(UTC)


def test_tokens_are_stored_only_as_hashes(database: Database) -> None:
    with database.begin(write=True) as session:
        _, plain = store.create_token(session, name="export script")
    with database.session() as session:
        stored = session.exec(select(ApiToken)).one()
        assert plain not in stored.token_hash
        assert stored.token_hash == store.hash_token(plain)
        assert store.find_active_token(session, plain=plain) is not None
        assert store.find_active_token(session, plain=plain + "x") is None


def test_a_response_for_a_missing_version_is_refused_whole(database: Database) -> None:
    load(database, definition_from(V1))
    with database.session() as session:
        survey = store.get_survey(session, slug="demo")
        assert survey is not None
        assert survey.id is not None
    with pytest.raises(sa.exc.IntegrityError), database.write_connection() as conn:
        store.insert_response(
            conn, survey_id=survey.id, survey_version_id=9999, answers={"colour": "red"}
        )
    assert stored_answers(database) == []


def test_a_batch_of_responses_comes_back_in_order_with_duplicates_resolved(
    database: Database, bundled: SurveyDefinition
) -> None:
    with database.session() as session:
        survey = store.get_survey(session, slug="libraries-abroad")
        assert survey is not None
        assert survey.id is not None
        version_id = store.current_version(session, survey=survey).id
    rows = [
        {
            "survey_id": survey.id,
            "survey_version_id": version_id,
            "answers": {"visits_libraries": value},
            "submission_key": key,
        }
        for value, key in [
            ("often", "form:a"),
            ("sometimes", None),
            ("not_yet", "form:a"),  # the same form again, in the same batch
            ("often", "form:b"),
        ]
    ]
    with database.write_connection() as conn:
        first = store.insert_responses(conn, rows)
    with database.write_connection() as conn:
        again = store.insert_responses(conn, rows[3:] + rows[:1])  # both already stored
    ids = [new_id for new_id, _ in first]
    assert ids[0] == ids[2]
    assert len(set(ids)) == 3
    assert [new_id for new_id, _ in again] == [ids[3], ids[0]]
    assert stored_answers(database) == [
        {"visits_libraries": "often"},
        {"visits_libraries": "sometimes"},
        {"visits_libraries": "often"},
    ]
