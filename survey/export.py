"""Responses -> CSV, as an iterator of byte chunks.

The formatting here is pure (rows in, bytes out); ``csv_from_database`` is the
one piece of glue that the HTTP export and ``survey export`` share, so both
give the same bytes.  It opens its own session because a streamed response
outlives the request that started it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from survey import store
from survey.db import Database
from survey.filters import ResponseFilter

# Metadata columns sit between these and the question columns.
FIXED_COLUMNS = ("response_id", "submitted_at", "survey_version", "source", "language")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")
BATCH_ROWS = 500


@dataclass(frozen=True)
class CsvOptions:
    header: Literal["keys", "labels"] = "keys"
    bom: bool = False
    # One 0/1 column per option of a multiple choice (and its "Other" text)
    # beside the joined cell, as statistics packages want them.
    multi_columns: bool = False
    filter: ResponseFilter = field(default_factory=ResponseFilter)


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
    question_type: str = "short_text"
    # A multiple choice's (value, label) options and whether it has "Other".
    options: tuple[tuple[str, str], ...] = ()
    other: bool = False


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
                    question_type=question.get("type", "short_text"),
                    options=tuple((o["value"], o["label"]) for o in question.get("options", [])),
                    other=bool(question.get("allow_other")),
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
    cells = [
        _CONVERTERS_BY_NAME[_CONVERTER_NAMES[column.kind]](_joined(column, answers))
        for column in columns
    ]
    buffer = io.StringIO()
    # The line end must be the real one: csv.writer quotes a field that holds
    # any of its characters, and a CR or LF in an answer must be quoted.
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().removesuffix("\r\n")


def _joined(column: Column, answers: dict[str, Any]) -> Any:
    """The answer as one value; a multiple choice as "a; b; other: text"."""
    value = answers.get(column.key)
    if column.kind == CHOICES and isinstance(value, list):
        other = answers.get(f"{column.key}_other")
        value = "; ".join(
            f"other: {other}" if item == "other" and other is not None else str(item)
            for item in value
        )
    return value


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
        cells = row[5]
        if cells is not None:
            source = row[3]
            lines.append(
                f"{row[0]},{row[1]},{row[2]},"
                f"{_quoted(_text_cell(source)) if source else ''},{row[4] or ''},{cells}{padding}"
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
    cells = ["r[0]", "r[1]", "r[2]", "_text_cell(r[3])", "_text_cell(r[4])"] + [
        f"{_CONVERTER_NAMES[column.kind]}(r[{6 + i}])" for i, column in enumerate(columns)
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
        types = {c.key: c.question_type for c in columns}
        if options.multi_columns:
            rows = store.iter_answer_rows(
                session.connection(), survey_id=survey_id, where=options.filter, types=types
            )
            yield from _expanded_csv_chunks(rows, columns=columns, options=options)
            return
        yield from csv_chunks(
            store.iter_export_rows(
                session.connection(),
                survey_id=survey_id,
                keys=[(c.key, c.kind == CHOICES) for c in columns],
                current_version_id=current.id,
                where=options.filter,
                types=types,
            ),
            columns=columns,
            current_columns=len(current.questions),
            options=options,
        )


def expanded_header(columns: list[Column], *, labels: bool) -> list[str]:
    """The question columns, with a multiple choice spread out: its joined
    cell, then ``key.value`` (0 or 1) per option, then ``key_other``."""
    names: list[str] = []
    for column in columns:
        names.append(column.label if labels else column.key)
        if column.kind != CHOICES:
            continue
        for value, label in column.options:
            names.append(f"{column.label}: {label}" if labels else f"{column.key}.{value}")
        if column.other:
            names.append(f"{column.label}: other (text)" if labels else f"{column.key}_other")
    return names


def expanded_cells(columns: list[Column], answers: dict[str, Any]) -> list[Any]:
    """One response's cells for ``expanded_header``: numbers stay numbers, text
    is defused like every spreadsheet cell, an unanswered question is empty."""
    cells: list[Any] = []
    for column in columns:
        converter = _CONVERTERS_BY_NAME[_CONVERTER_NAMES[column.kind]]
        cells.append(converter(_joined(column, answers)))
        if column.kind != CHOICES:
            continue
        chosen = answers.get(column.key)
        for value, _label in column.options:
            cells.append((1 if value in chosen else 0) if isinstance(chosen, list) else "")
        if column.other:
            cells.append(_text_cell(answers.get(f"{column.key}_other")))
    return cells


def _expanded_csv_chunks(
    rows: Iterable[store.AnswerRow], *, columns: list[Column], options: CsvOptions
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if options.bom:
        buffer.write("\ufeff")
    names = expanded_header(columns, labels=options.header == "labels")
    writer.writerow([*FIXED_COLUMNS, *(csv_safe(name) for name in names)])
    for count, row in enumerate(rows, start=1):
        writer.writerow(
            [
                row.id,
                format_time(row.submitted_at),
                row.version,
                _text_cell(row.source),
                row.language or "",
                *expanded_cells(columns, row.answers),
            ]
        )
        if count % BATCH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def jsonl_from_database(
    database: Database, *, survey_id: int, where: ResponseFilter
) -> Iterator[bytes]:
    """JSON Lines: one object per response, answers exactly as stored.

    JSON is data, not a spreadsheet: no cell is altered (the formula rule is
    for CSV and Excel, whose programs run what looks like a formula).
    """
    with database.session() as session:
        versions = store.survey_versions(session, survey_id=survey_id)
        types = {c.key: c.question_type for c in question_columns(v.questions for v in versions)}
        lines: list[str] = []
        for row in store.iter_answer_rows(
            session.connection(), survey_id=survey_id, where=where, types=types
        ):
            document = {
                "response_id": row.id,
                "submitted_at": format_time(row.submitted_at),
                "survey_version": row.version,
                "source": row.source,
                "language": row.language,
                "answers": row.answers,
            }
            lines.append(json.dumps(document, ensure_ascii=False) + "\n")
            if len(lines) >= BATCH_ROWS:
                yield "".join(lines).encode("utf-8")
                lines.clear()
        yield "".join(lines).encode("utf-8")


def xlsx_from_database(
    database: Database, *, survey_id: int, options: CsvOptions, path: str
) -> int:
    """Write an Excel workbook to ``path``; returns the number of responses.

    XlsxWriter's constant-memory mode writes each row to disk as it goes, so a
    large survey does not grow the process.  Strings are never read as
    formulas or links, and text is defused as in the CSV export besides, so a
    copy pasted back into a sheet stays harmless too.
    """
    import xlsxwriter  # type: ignore[import-untyped]

    with database.session() as session:
        versions = store.survey_versions(session, survey_id=survey_id)
        columns = question_columns(v.questions for v in versions)
        types = {c.key: c.question_type for c in columns}
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
            },
        )
        try:
            sheet = workbook.add_worksheet("Responses")
            when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
            bold = workbook.add_format({"bold": True})
            names = expanded_header(columns, labels=options.header == "labels")
            sheet.write_row(0, 0, [*FIXED_COLUMNS, *(csv_safe(n) for n in names)], bold)
            sheet.freeze_panes(1, 0)
            count = 0
            for count, row in enumerate(
                store.iter_answer_rows(
                    session.connection(), survey_id=survey_id, where=options.filter, types=types
                ),
                start=1,
            ):
                sheet.write_number(count, 0, row.id)
                sheet.write_datetime(count, 1, row.submitted_at.astimezone(UTC), when)
                sheet.write_number(count, 2, row.version)
                sheet.write_row(
                    count,
                    3,
                    [
                        _text_cell(row.source),
                        row.language or "",
                        *expanded_cells(columns, row.answers),
                    ],
                )
        finally:
            workbook.close()
    return count


def download_filename(slug: str, moment: datetime, extension: str) -> str:
    return f"{slug}-responses-{moment.astimezone(UTC):%Y%m%d-%H%M%S}.{extension}"


def csv_filename(slug: str, moment: datetime) -> str:
    return download_filename(slug, moment, "csv")
