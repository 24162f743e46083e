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
from typing import Any

from survey import store
from survey.db import Database
from survey.export.common import BATCH_ROWS, FIXED_COLUMNS, CsvOptions, format_time
from survey.questions import Column
from survey.questions.cells import (
    CONVERTERS,
    Labels,
    answer_labels,
    cell,
    csv_safe,
    export_cell,
    question_columns,
    text_cell,
)


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
                f"{_quoted(text_cell(source)) if source else ''},{row[4] or ''},{cells}{padding}"
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
    names = {kind: f"_{kind}_cell" for kind in CONVERTERS}
    cells = ["r[0]", "r[1]", "r[2]", "_text_cell(r[3])", "_text_cell(r[4])"] + [
        f"{names[column.kind]}(r[{6 + i}])" for i, column in enumerate(columns)
    ]
    source = f"lambda r: [{', '.join(cells)}]"
    scope = {names[kind]: convert for kind, convert in CONVERTERS.items()}
    function: Callable[[Sequence[Any]], list[Any]] = eval(source, scope)  # noqa: S307
    return function


def csv_from_database(
    database: Database, *, survey_id: int, options: CsvOptions
) -> Iterator[bytes]:
    with database.session() as session:
        versions = store.survey_versions(session, survey_id=survey_id)
        columns = question_columns(v.questions for v in versions)
        current = versions[0]
        assert current.id is not None
        if options.multi_columns or options.values == "labels":
            # Cell by cell in Python: the stored cells hold codes, one per question.
            labels = (
                answer_labels((v.questions for v in versions), options.lang)
                if options.values == "labels"
                else None
            )
            rows = store.iter_answer_rows(
                session.connection(), survey_id=survey_id, where=options.filter
            )
            yield from _expanded_csv_chunks(rows, columns=columns, options=options, labels=labels)
            return
        yield from csv_chunks(
            store.iter_export_rows(
                session.connection(),
                survey_id=survey_id,
                columns=columns,
                current_version_id=current.id,
                where=options.filter,
            ),
            columns=columns,
            current_columns=len(question_columns([current.questions])),
            options=options,
        )


def expanded_header(columns: list[Column], *, labels: bool, spread: bool = True) -> list[str]:
    """The question columns, with a multiple choice spread out: its joined
    cell, then ``key.value`` (0 or 1) per option, then ``key_other``."""
    names: list[str] = []
    for column in columns:
        names.append(column.label if labels else column.key)
        if not column.options or not spread:
            continue
        for value, label in column.options:
            names.append(f"{column.label}: {label}" if labels else f"{column.key}.{value}")
        if column.other:
            names.append(f"{column.label}: other (text)" if labels else f"{column.key}_other")
    return names


def expanded_cells(
    columns: list[Column],
    answers: dict[str, Any],
    *,
    labels: Labels | None = None,
    defuse: bool = True,
    spread: bool = True,
) -> list[Any]:
    """One response's cells for ``expanded_header``: numbers stay numbers, text
    is defused like every spreadsheet cell (unless ``defuse`` is off), an
    unanswered question is empty; with ``labels``, choices read as labels."""
    cells: list[Any] = []
    for column in columns:
        cells.append(
            cell(column, answers)
            if labels is None and defuse
            else export_cell(column, answers, labels=labels, defuse=defuse)
        )
        if not column.options or not spread:
            continue
        chosen = answers.get(column.key)
        for value, _label in column.options:
            cells.append((1 if value in chosen else 0) if isinstance(chosen, list) else "")
        if column.other:
            other = answers.get(f"{column.key}_other")
            cells.append(text_cell(other) if defuse else "" if other is None else other)
    return cells


def _expanded_csv_chunks(
    rows: Iterable[store.AnswerRow],
    *,
    columns: list[Column],
    options: CsvOptions,
    labels: Labels | None,
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if options.bom:
        buffer.write("\ufeff")
    spread = options.multi_columns
    names = expanded_header(columns, labels=options.header == "labels", spread=spread)
    writer.writerow([*FIXED_COLUMNS, *(csv_safe(name) for name in names)])
    for count, row in enumerate(rows, start=1):
        writer.writerow(
            [
                row.id,
                format_time(row.submitted_at),
                row.version,
                text_cell(row.source),
                row.language or "",
                *expanded_cells(columns, row.answers, labels=labels, spread=spread),
            ]
        )
        if count % BATCH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
