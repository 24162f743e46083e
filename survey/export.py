"""Responses -> CSV, as an iterator of byte chunks.

The formatting here is pure (rows in, bytes out); ``csv_from_database`` is the
one piece of glue that the HTTP export and ``survey export`` share, so both
give the same bytes.  It opens its own session because a streamed response
outlives the request that started it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
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


TEXT, NUMBER, BOOLEAN, CHOICES = "text", "number", "boolean", "choices"
_KINDS = {"multiple_choice": CHOICES, "consent": BOOLEAN, "number": NUMBER, "rating": NUMBER}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = TEXT  # how the stored value becomes a cell
    with_other: bool = False  # a multiple choice whose "Other" text has its own key


def question_columns(versions_newest_first: Iterable[list[dict[str, Any]]]) -> list[Column]:
    """The current version's questions in order, then keys only older versions had."""
    columns: dict[str, Column] = {}
    for questions in versions_newest_first:
        for question in questions:
            kind = _KINDS.get(question.get("type", ""), TEXT)
            columns.setdefault(
                question["key"],
                Column(
                    question["key"],
                    question["label"],
                    kind,
                    with_other=kind == CHOICES and bool(question.get("allow_other")),
                ),
            )
    return list(columns.values())


def _text_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return value  # a number stored under a text key by an older version


def _number_cell(value: Any) -> Any:
    return "" if value is None else value  # a number is not text: -3 stays -3


def _boolean_cell(value: Any) -> str:
    if value is None:
        return ""
    return "yes" if value in (True, 1, "true") else "no"


def _choices_cell(value: Any) -> Any:
    # Joined by the database ("a; b; other: text"); a list only in old rows.
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    return _text_cell(value)


_CONVERTERS_BY_NAME: dict[str, Callable[[Any], Any]] = {
    "_text_cell": _text_cell,
    "_number_cell": _number_cell,
    "_boolean_cell": _boolean_cell,
    "_choices_cell": _choices_cell,
}


def format_answer(value: Any, other_text: Any = None) -> str:
    """One stored answer (as the JSON document holds it) as a CSV cell; the
    export does the same in SQL (see ``store.iter_export_rows``)."""
    if isinstance(value, bool):
        return _boolean_cell(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return csv_safe(
            "; ".join(
                f"other: {other_text}" if v == "other" and other_text is not None else str(v)
                for v in value
            )
        )
    return str(_text_cell(value))


def csv_chunks(
    rows: Iterable[Sequence[Any]],
    *,
    columns: list[Column],
    options: CsvOptions,
) -> Iterator[bytes]:
    """CSV bytes for rows shaped as ``store.iter_export_rows`` yields them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if options.bom:
        buffer.write("\ufeff")
    names = [c.label if options.header == "labels" else c.key for c in columns]
    writer.writerow([*FIXED_COLUMNS, *(csv_safe(name) for name in names)])
    convert = _row_converter(columns)
    pending = 0
    batch: list[list[Any]] = []
    for row in rows:
        batch.append(convert(row))
        pending += 1
        if pending >= BATCH_ROWS:
            writer.writerows(batch)
            batch.clear()
            pending = 0
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue().encode("utf-8")


def _row_converter(columns: list[Column]) -> Callable[[Sequence[Any]], list[Any]]:
    """One function per export that turns a row tuple into cells.

    It is written out for this export's columns and compiled once, so each
    row costs one call per cell that needs work and no loop over a plan:
    for a million rows that is most of Python's share of the time.  Only
    positions and names from this module go into the source.
    """
    names = {
        TEXT: "_text_cell",
        NUMBER: "_number_cell",
        BOOLEAN: "_boolean_cell",
        CHOICES: "_choices_cell",
    }
    cells = ["r[0]", "r[1]", "r[2]", "_text_cell(r[3])"] + [
        f"{names[column.kind]}(r[{4 + i}])" for i, column in enumerate(columns)
    ]
    source = f"lambda r: [{', '.join(cells)}]"
    function: Callable[[Sequence[Any]], list[Any]] = eval(source, dict(_CONVERTERS_BY_NAME))  # noqa: S307
    return function


def csv_from_database(
    database: Database, *, survey_id: int, options: CsvOptions
) -> Iterator[bytes]:
    with database.session() as session:
        versions = store.survey_versions(session, survey_id=survey_id)
        columns = question_columns(v.questions for v in versions)
        yield from csv_chunks(
            store.iter_export_rows(
                session.connection(),
                survey_id=survey_id,
                keys=[(c.key, c.kind == CHOICES) for c in columns],
                since=options.since,
                until=options.until,
                source=options.source,
            ),
            columns=columns,
            options=options,
        )


def csv_filename(slug: str, moment: datetime) -> str:
    return f"{slug}-responses-{moment.astimezone(UTC):%Y%m%d-%H%M%S}.csv"
