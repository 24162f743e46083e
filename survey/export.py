"""Responses -> CSV, as an iterator of byte chunks.

The formatting here is pure (rows in, bytes out); ``csv_from_database`` is the
one piece of glue that the HTTP export and ``survey export`` share, so both
give the same bytes.  It opens its own session because a streamed response
outlives the request that started it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from survey import store
from survey.db import Database

# Metadata columns sit between these and the question columns.
FIXED_COLUMNS = ("response_id", "submitted_at", "survey_version", "source")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")
BATCH_ROWS = 500


class BadBound(ValueError):
    """A since/until value that is not an ISO date or date-time."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class CsvOptions:
    header: Literal["keys", "labels"] = "keys"
    bom: bool = False
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    source: str | None = None


def parse_bound(text: str | None, *, name: str, upper: bool) -> datetime | None:
    """An ISO date (a whole day, inclusive) or date-time (UTC unless it says
    otherwise) as a UTC datetime; for ``until`` the first instant excluded."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if upper else start
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadBound(
            name,
            f"{name} must be a date like 2027-01-31 or a date and time like 2027-01-31T18:00:00Z",
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment + timedelta(microseconds=1) if upper else moment


def csv_safe(text: str) -> str:
    """Defuse spreadsheet formulas: a cell starting with one of these is prefixed with '."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Column:
    key: str
    label: str


def question_columns(versions_newest_first: Iterable[list[dict[str, Any]]]) -> list[Column]:
    """The current version's questions in order, then keys only older versions had."""
    columns: dict[str, Column] = {}
    for questions in versions_newest_first:
        for question in questions:
            columns.setdefault(question["key"], Column(question["key"], question["label"]))
    return list(columns.values())


def format_answer(value: Any, other_text: Any = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)  # a number is not text: -3 stays -3
    if isinstance(value, list):
        parts = [
            f"other: {other_text}" if item == "other" and other_text is not None else str(item)
            for item in value
        ]
        return csv_safe("; ".join(parts))
    return csv_safe(str(value))


def csv_chunks(
    rows: Iterable[store.ResponseRow],
    *,
    columns: list[Column],
    version_numbers: dict[int, int],
    options: CsvOptions,
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if options.bom:
        buffer.write("\ufeff")
    names = [c.label if options.header == "labels" else c.key for c in columns]
    writer.writerow([*FIXED_COLUMNS, *(csv_safe(name) for name in names)])
    keys = [(c.key, f"{c.key}_other") for c in columns]
    pending = 0
    for row in rows:
        answers = row.answers
        writer.writerow(
            [
                row.id,
                format_time(row.submitted_at),
                version_numbers.get(row.survey_version_id, ""),
                csv_safe(row.source or ""),
                *(format_answer(answers.get(key), answers.get(other)) for key, other in keys),
            ]
        )
        pending += 1
        if pending >= BATCH_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def csv_from_database(
    database: Database, *, survey_id: int, options: CsvOptions
) -> Iterator[bytes]:
    with database.session() as session:
        versions = store.survey_versions(session, survey_id=survey_id)
        yield from csv_chunks(
            store.iter_responses(
                session,
                survey_id=survey_id,
                since=options.since,
                until=options.until,
                source=options.source,
            ),
            columns=question_columns(v.questions for v in versions),
            version_numbers={v.id: v.version for v in versions if v.id is not None},
            options=options,
        )


def csv_filename(slug: str, moment: datetime) -> str:
    return f"{slug}-responses-{moment.astimezone(UTC):%Y%m%d-%H%M%S}.csv"
