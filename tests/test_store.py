from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from survey import store
from survey.db import Database
from survey.models import ApiToken, Response
from tests.helpers import definition_from, load

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
    with database.begin(write=True) as session:
        survey = store.get_survey(session, slug="demo")
        assert survey is not None
        assert survey.id is not None
        old = store.current_version(session, survey=survey)
        assert old.id is not None
        store.add_response(
            session, survey_id=survey.id, survey_version_id=old.id, answers={"colour": "red"}
        )
    load(database, definition_from(V1.replace("label: Why", "label: Because")))
    with database.session() as session:
        row = session.exec(select(Response)).one()
        assert row.survey_version_id == old.id
        assert row.answers == {"colour": "red"}
        assert row.submitted_at.tzinfo is not None


def test_timestamps_come_back_as_utc(database: Database) -> None:
    load(database, definition_from(V1))
    moment = datetime(2027, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    with database.begin(write=True) as session:
        survey = store.get_survey(session, slug="demo")
        assert survey is not None
        assert survey.id is not None
        version = store.current_version(session, survey=survey)
        assert version.id is not None
        store.add_response(
            session,
            survey_id=survey.id,
            survey_version_id=version.id,
            answers={},
            submitted_at=moment,
        )
    with database.session() as session:
        rows = list(store.iter_responses(session, survey_id=survey.id))
    assert [r.submitted_at for r in rows] == [moment]


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
    with database.session(write=True) as session:
        survey = store.get_survey(session, slug="demo")
        assert survey is not None
        assert survey.id is not None
        survey_id = survey.id
        with pytest.raises(sa.exc.IntegrityError):
            store.add_response(
                session, survey_id=survey_id, survey_version_id=9999, answers={"colour": "red"}
            )
        session.rollback()
    with database.session() as session:
        assert store.count_responses(session, survey_id=survey_id) == 0
