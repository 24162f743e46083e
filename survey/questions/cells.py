"""How a stored answer becomes a spreadsheet cell: the Python rule and its SQL
twin, side by side, for each cell format a kind can name (``Column.kind``).

The Python rule formats a response when it is stored (``render_cells``, kept
in ``Response.csv_cells``) and for the Excel and spread-out CSV exports; the
SQL twin pulls the same value out of the JSON in the database for the fast
CSV export of rows that have no stored cells.  A change to one must be made
to the other: ``tests/test_export.py`` checks they agree.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from survey.questions import BaseQuestion, stored_questions
from survey.questions.base import BOOLEAN, CHOICES, KEY_PATTERN, NUMBER, OTHER, TEXT, Column

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")
# JSON path parts written into SQL: question keys (KEY_PATTERN) and matrix
# rows (letters, digits, _ and -): never a quote, a dot or a bracket.
_PATH_PART = re.compile(r"^[\w-]+$")


def csv_safe(text: str) -> str:
    """Defuse spreadsheet formulas: a cell starting with one of these is prefixed with '."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# --- The Python rule --------------------------------------------------------


def text_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return value  # a number stored under a text key by an older version


_NUMBER_TEXT = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


def number_cell(value: Any) -> Any:
    """A number as it is (-3 stays -3); text stored under the key by an older
    version of the question (or read as text from the database that is not a
    number) gets the formula rule like any text: the rule holds for every cell."""
    if value is None:
        return ""
    if isinstance(value, str) and not _NUMBER_TEXT.fullmatch(value):
        return text_cell(value)
    return value


def boolean_cell(value: Any) -> str:
    if value is None:
        return ""
    return "yes" if value in (True, 1, "true") else "no"


def choices_cell(value: Any) -> Any:
    # Joined by the database ("a; b; other: text"); a list only in old rows.
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    return text_cell(value)


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    TEXT: text_cell,
    NUMBER: number_cell,
    BOOLEAN: boolean_cell,
    CHOICES: choices_cell,
}


def value_at(column: Column, answers: dict[str, Any]) -> Any:
    """The answer a column holds; a list as "a; b; other: text"."""
    value: Any = answers
    for part in column.json_path:
        value = value.get(part) if isinstance(value, dict) else None
    if column.kind == CHOICES and isinstance(value, list):
        other = answers.get(f"{column.key}_other")
        value = "; ".join(
            f"other: {other}" if item == OTHER and other is not None else str(item)
            for item in value
        )
    return value


def cell(column: Column, answers: dict[str, Any]) -> Any:
    return CONVERTERS[column.kind](value_at(column, answers))


Labels = Mapping[str, Mapping[str, str]]


def answer_labels(
    versions_newest_first: Iterable[Iterable[Any]], lang: str
) -> dict[str, dict[str, str]]:
    """Question key -> {stored value: label} for every question with choices
    (choice, yes/no, country, consent, matrix columns), the newest wording winning."""
    labels: dict[str, dict[str, str]] = {}
    for questions in versions_newest_first:
        for question in stored_questions(list(questions)):
            choices = question.choices(lang)
            if choices and question.key not in labels:
                labels[question.key] = dict(choices)
    return labels


def export_cell(
    column: Column, answers: dict[str, Any], *, labels: Labels | None = None, defuse: bool = True
) -> Any:
    """A column's cell for the downloads: with ``labels``, a choice reads as its
    label ("Yes, whenever I can", "Canada") instead of its code; without
    ``defuse`` text is left as it is (Excel, which marks such cells as text)."""
    value = value_at(column, answers)
    names = labels.get(column.json_path[0]) if labels else None
    if names is not None and column.kind != NUMBER and value is not None:
        value = _labelled(column, answers, names)
    elif column.kind in (BOOLEAN, NUMBER):
        return CONVERTERS[column.kind](value)
    if value is None:
        return ""
    return text_cell(value) if defuse else value


def _labelled(column: Column, answers: dict[str, Any], names: Mapping[str, str]) -> Any:
    raw: Any = answers
    for part in column.json_path:
        raw = raw.get(part) if isinstance(raw, dict) else None
    if isinstance(raw, list):
        other = answers.get(f"{column.key}_other")
        return "; ".join(
            f"{names.get(OTHER, OTHER)}: {other}"
            if item == OTHER and other is not None
            else names.get(str(item), str(item))
            for item in raw
        )
    return names.get("true" if raw is True else str(raw), str(raw))


def render_cells(columns: list[Column], answers: dict[str, Any]) -> str:
    """A response's answers as the CSV cells of its version's questions, in
    order, written when the response is stored so that the export only has to
    copy them (``Response.csv_cells``)."""
    buffer = io.StringIO()
    # The line end must be the real one: csv.writer quotes a field that holds
    # any of its characters, and a CR or LF in an answer must be quoted.
    csv.writer(buffer, lineterminator="\r\n").writerow([cell(c, answers) for c in columns])
    return buffer.getvalue().removesuffix("\r\n")


def question_columns(versions_newest_first: Iterable[Iterable[Any]]) -> list[Column]:
    """The current version's columns in order, then those only older versions had.

    Each version is its questions, as models or as stored dicts."""
    columns: dict[str, Column] = {}
    for questions in versions_newest_first:
        items = list(questions)
        parsed = [q for q in items if isinstance(q, BaseQuestion)] or stored_questions(items)
        for question in parsed:
            for column in question.export_columns():
                columns.setdefault(column.key, column)
    return list(columns.values())


# --- The SQL twin -----------------------------------------------------------


def answer_sql(path: tuple[str | int, ...], *, sqlite: bool, alias: str = "r") -> str:
    """A stored answer as text (NULL when missing)."""
    if sqlite:
        return f"CAST({_sqlite_extract(path, alias)} AS TEXT)"
    return f"({_pg_path(path, alias)})"


def cell_sql(column: Column, *, sqlite: bool, alias: str = "r") -> str:
    """The value ``cell`` formats, pulled out by the database: the stored
    JSON value, a list joined as "a; b; other: <text>" like ``value_at``."""
    path = column.json_path
    if column.kind != CHOICES:
        return _sqlite_extract(path, alias) if sqlite else f"{_pg_path(path, alias)}"
    key = path[0]
    assert re.fullmatch(KEY_PATTERN, key), key
    other = f"{key}_other"
    if sqlite:
        return (
            "(SELECT group_concat(CASE WHEN e.value = 'other' AND "
            f"json_extract({alias}.answers, '$.{other}') IS NOT NULL THEN 'other: ' || "
            f"json_extract({alias}.answers, '$.{other}') ELSE e.value END, '; ') "
            f"FROM json_each({alias}.answers, '$.{key}') AS e)"
        )
    return (
        "(SELECT string_agg(CASE WHEN e.value = 'other' AND "
        f"{alias}.answers ? '{other}' THEN 'other: ' || ({alias}.answers ->> '{other}') "
        "ELSE e.value END, '; ' ORDER BY e.n) FROM jsonb_array_elements_text("
        f"CASE WHEN jsonb_typeof({alias}.answers -> '{key}') = 'array' "
        f"THEN {alias}.answers -> '{key}' END) WITH ORDINALITY AS e(value, n))"
    )


def _checked(path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    assert path, path
    assert re.fullmatch(KEY_PATTERN, str(path[0])), path
    for part in path[1:]:
        assert isinstance(part, int) or _PATH_PART.fullmatch(part), path
    return path


def _sqlite_extract(path: tuple[str | int, ...], alias: str) -> str:
    key, *rest = _checked(path)
    text = f"$.{key}" + "".join(f"[{p}]" if isinstance(p, int) else f'."{p}"' for p in rest)
    return f"json_extract({alias}.answers, '{text}')"


def _pg_path(path: tuple[str | int, ...], alias: str) -> str:
    parts = [str(p) if isinstance(p, int) else f"'{p}'" for p in _checked(path)]
    arrows = [" -> "] * (len(parts) - 1) + [" ->> "]
    return f"{alias}.answers" + "".join(a + p for a, p in zip(arrows, parts, strict=True))
