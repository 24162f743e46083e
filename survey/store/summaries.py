"""The summary page's queries: grouped counts and the latest text answers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from survey.filters import ResponseFilter
from survey.questions.cells import answer_sql
from survey.store.filters import where_sql


def answer_groups(
    conn: sa.Connection,
    *,
    survey_id: int,
    where: ResponseFilter,
    group_paths: list[tuple[str, ...]],
    count_paths: list[tuple[str, ...]],
) -> list[tuple[Any, ...]]:
    """One pass over the matching responses for the summary.

    Rows are grouped by the answers to ``group_keys`` together (each as text;
    a multiple choice as its JSON array), so one scan yields every choice
    question's counts: a handful of distinct combinations, not one row per
    response.  Each row is (value per group key..., responses, then per
    ``count_keys`` key how many of them answered it).  Pulling answers out of
    the JSON is what the time goes on, so each is pulled once per row.
    """
    sqlite = conn.dialect.name == "sqlite"
    condition, params = where_sql(conn, survey_id, where)
    values = [answer_sql(path, sqlite=sqlite) for path in group_paths]
    sums = [
        f"coalesce(sum(CASE WHEN {answer_sql(path, sqlite=sqlite)} <> '' THEN 1 ELSE 0 END), 0)"
        for path in count_paths
    ]
    query = f"SELECT {', '.join([*values, 'count(*)', *sums])} FROM response r WHERE {condition}"
    if values:
        query += f" GROUP BY {', '.join(str(n) for n in range(1, len(values) + 1))}"
    return [tuple(row) for row in conn.execute(sa.text(query), params)]


def latest_answers(
    conn: sa.Connection,
    *,
    survey_id: int,
    where: ResponseFilter,
    path: tuple[str, ...],
    limit: int = 5,
) -> list[tuple[int, str]]:
    """The newest non-empty answers to a question, as (response id, text)."""
    value = answer_sql(path, sqlite=conn.dialect.name == "sqlite")
    condition, params = where_sql(conn, survey_id, where)
    params["limit"] = limit
    query = (
        f"SELECT r.id, {value} FROM response r "
        f"WHERE {condition} AND {value} <> '' ORDER BY r.id DESC LIMIT :limit"
    )
    return [(int(i), str(text)) for i, text in conn.execute(sa.text(query), params)]
