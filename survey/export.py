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


def question_columns(versions_newest_first: Iterable[list[dict[str, Any]]]) -> list[Column]:
    """The current version's questions in order, then keys only older versions had."""
    columns: dict[str, Column] = {}
    for questions in versions_newest_first:
        for question in questions:
            kind = _KINDS.get(question.get("type", ""), TEXT)
            columns.setdefault(
                question["key"],
                Column(question["key"], question["label"], kind),
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


_CONVERTER_NAMES = {
    TEXT: "_text_cell",
    NUMBER: "_number_cell",
    BOOLEAN: "_boolean_cell",
    CHOICES: "_choices_cell",
}
_CONVERTERS_BY_NAME: dict[str, Callable[[Any], Any]] = {
    "_text_cell": _text_cell,
    "_number_cell": _number_cell,
    "_boolean_cell": _boolean_cell,
    "_choices_cell": _choices_cell,
}


def render_cells(columns: list[Column], answers: dict[str, Any]) -> str:
    """A response's answers as the CSV cells of its version's questions, in
    order, written when the response is stored so that the export only has to
    copy them (``Response.csv_cells``)."""
    cells = []
    for column in columns:
        value = answers.get(column.key)
        if column.kind == CHOICES and isinstance(value, list):
            other = answers.get(f"{column.key}_other")
            value = "; ".join(
                f"other: {other}" if item == "other" and other is not None else str(item)
                for item in value
            )
        cells.append(_CONVERTERS_BY_NAME[_CONVERTER_NAMES[column.kind]](value))
    buffer = io.StringIO()
    # The line end must be the real one: csv.writer quotes a field that holds
    # any of its characters, and a CR or LF in an answer must be quoted.
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().removesuffix("\r\n")


def _quoted(text: str) -> str:
    # What csv.writer does to one field (QUOTE_MINIMAL), for the fast path.
    if any(char in text for char in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_chunks(
    rows: Iterable[Sequence[Any]],
    *,
    columns: list[Column],
    current_columns: int,
    options: CsvOptions,
) -> Iterator[bytes]:
    """CSV bytes for rows shaped as ``store.iter_export_rows`` yields them.

    A row with stored cells is copied out as text; only the others are
    formatted cell by cell.  ``current_columns`` is how many of ``columns``
    the current version asks (the stored cells cover those).
    """
    line_buffer = io.StringIO()
    writer = csv.writer(line_buffer, lineterminator="\r\n")
    if options.bom:
        line_buffer.write("\ufeff")
    names = [c.label if options.header == "labels" else c.key for c in columns]
    writer.writerow([*FIXED_COLUMNS, *(csv_safe(name) for name in names)])
    header = line_buffer.getvalue()
    line_buffer.seek(0)
    line_buffer.truncate()
    convert = _row_converter(columns)
    padding = "," * (len(columns) - current_columns) + "\r\n"
    lines: list[str] = [header]
    for row in rows:
        cells = row[4]
        if cells is not None:
            source = row[3]
            lines.append(
                f"{row[0]},{row[1]},{row[2]},"
                f"{_quoted(_text_cell(source)) if source else ''},{cells}{padding}"
            )
        else:
            writer.writerow(convert(row))
            lines.append(line_buffer.getvalue())
            line_buffer.seek(0)
            line_buffer.truncate()
        if len(lines) >= BATCH_ROWS:
            yield "".join(lines).encode("utf-8")
            lines.clear()
    yield "".join(lines).encode("utf-8")


def _row_converter(columns: list[Column]) -> Callable[[Sequence[Any]], list[Any]]:
    """The function that turns a row without stored cells into cells.

    It is written out for this export's columns and compiled once, so a row
    costs one call per cell and no loop over a plan.  Only positions and names
    from this module go into its source.
    """
    cells = ["r[0]", "r[1]", "r[2]", "_text_cell(r[3])"] + [
        f"{_CONVERTER_NAMES[column.kind]}(r[{5 + i}])" for i, column in enumerate(columns)
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
        current = versions[0]
        assert current.id is not None
        yield from csv_chunks(
            store.iter_export_rows(
                session.connection(),
                survey_id=survey_id,
                keys=[(c.key, c.kind == CHOICES) for c in columns],
                current_version_id=current.id,
                since=options.since,
                until=options.until,
                source=options.source,
            ),
            columns=columns,
            current_columns=len(current.questions),
            options=options,
        )


def csv_filename(slug: str, moment: datetime) -> str:
    return f"{slug}-responses-{moment.astimezone(UTC):%Y%m%d-%H%M%S}.csv"
