"""The SQL for a ``ResponseFilter``, shared by every staff query and export.

Paths in a filter come from the survey's own question kinds (keys match
KEY_PATTERN, matrix rows a narrower pattern), checked again where they are
written into the SQL; every value is a bound parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from survey.filters import ResponseFilter
from survey.questions.base import KEY_PATTERN
from survey.questions.cells import answer_sql

NO_FILTER = ResponseFilter()


def filter_sql(
    where: ResponseFilter,
    *,
    sqlite: bool,
    mark: Callable[[str], str] = lambda name: f":{name}",
    alias: str = "r",
) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions and their parameters for a filter.

    No ``%`` appears, so the text works for the DB-API cursor and for
    ``sa.text`` alike.
    """
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for column, op, name, value in (
        ("submitted_at", ">=", "since", where.since),
        ("submitted_at", "<", "until", where.until),
        ("source", "=", "source", where.source),
    ):
        if value is not None:
            conditions.append(f"{alias}.{column} {op} {mark(name)}")
            params[name] = (
                _bind_time(value, sqlite=sqlite) if isinstance(value, datetime) else value
            )
    for number, (path, match, value) in enumerate(where.conditions):
        name = f"answer_{number}"
        params[name] = value
        conditions.append(_matches(path, match, mark(name), sqlite=sqlite, alias=alias))
    if where.search:
        keys = where.search_keys
        if sqlite and where.search.isascii():
            # SQLite's own LIKE folds ASCII case in C, without calling back
            # into Python for every answer of every row.
            escaped = re.sub(r"([%_!])", r"!\1", where.search)
            params["search"] = f"%{escaped}%"
            found = [
                f"{answer_sql((k,), sqlite=True, alias=alias)} LIKE {mark('search')} ESCAPE '!'"
                for k in keys
            ]
        elif sqlite:
            params["search"] = where.search.casefold()
            found = [
                f"instr(casefold({answer_sql((k,), sqlite=True, alias=alias)}), "
                f"{mark('search')}) > 0"
                for k in keys
            ]
        else:
            params["search"] = where.search
            found = [
                f"strpos(lower({answer_sql((k,), sqlite=False, alias=alias)}), "
                f"lower({mark('search')})) > 0"
                for k in keys
            ]
        conditions.append(f"({' OR '.join(found)})" if found else "1 = 0")
    return conditions, params


def _matches(
    path: tuple[str | int, ...], match: str, value: str, *, sqlite: bool, alias: str
) -> str:
    """The stored answer at ``path`` equals the value, holds it (a list), or
    holds it first (a ranking)."""
    if match == "first":
        return f"{answer_sql((*path, 0), sqlite=sqlite, alias=alias)} = {value}"
    if match == "equals":
        return f"{answer_sql(path, sqlite=sqlite, alias=alias)} = {value}"
    assert match == "contains", match
    assert len(path) == 1, path
    assert re.fullmatch(KEY_PATTERN, str(path[0])), path
    if sqlite:
        return (
            f"EXISTS (SELECT 1 FROM json_each({alias}.answers, '$.{path[0]}') AS e "
            f"WHERE e.value = {value})"
        )
    return (
        f"(jsonb_typeof({alias}.answers -> '{path[0]}') = 'array' AND "
        f"{alias}.answers -> '{path[0]}' @> jsonb_build_array(CAST({value} AS text)))"
    )


def _bind_time(value: datetime, *, sqlite: bool) -> Any:
    value = value.astimezone(UTC)
    # SQLite keeps timestamps as text in SQLAlchemy's format.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else value


def where_sql(
    conn: sa.Connection, survey_id: int, where: ResponseFilter
) -> tuple[str, dict[str, Any]]:
    """The WHERE clause (on ``response r``) for one survey's matching responses."""
    conditions, params = filter_sql(where, sqlite=conn.dialect.name == "sqlite")
    params["survey_id"] = survey_id
    return " AND ".join(["r.survey_id = :survey_id", *conditions]), params
