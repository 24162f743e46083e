"""A grid of statements (rows) each answered on the same scale (columns): a
Likert grid.  ``required`` means every row.

Answer ``{row: column}``; in the form one group of radios per row, named
``<key>.<row>``; in the exports one column per row, ``<key>.<row>``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from survey.i18n import N_, Message
from survey.questions.base import (
    MATRIX,
    MISSING,
    Bar,
    BaseQuestion,
    Column,
    FilterSpec,
    Option,
    OptionList,
    Refused,
    percent,
)

# Rows become JSON paths written into SQL and form field names: no quotes,
# dots or brackets (plain labels are turned into such values).
ROW_VALUE = r"^[\w-]{1,64}$"


class MatrixQuestion(BaseQuestion):
    partial: ClassVar[str] = "questions/_q_matrix.html"
    required_message: ClassVar[Message] = N_("Answer every row")
    option_lists: ClassVar[tuple[str, ...]] = ("rows", "columns")
    summary_shape: ClassVar[str] = MATRIX

    type: Literal["matrix"]
    rows: OptionList = Field(min_length=1, max_length=50)
    columns: OptionList = Field(min_length=2, max_length=12)

    @field_validator("rows")
    @classmethod
    def _row_values(cls, rows: list[Option]) -> list[Option]:
        for row in rows:
            if not re.fullmatch(ROW_VALUE, row.value):
                raise ValueError(
                    f"row value {row.value!r} may only hold letters, digits, _ and - "
                    "(up to 64 characters)"
                )
        return rows

    def field_name(self, row: Option) -> str:
        return f"{self.key}.{row.value}"

    def clean(self, get: Callable[[str], Any], *, from_form: bool) -> dict[str, Any]:
        allowed = {column.value for column in self.columns}
        answer: dict[str, str] = {}
        if from_form:
            for row in self.rows:
                sent = get(self.field_name(row))
                if sent is MISSING:
                    continue
                if sent[0] not in allowed:
                    raise Refused(N_("Choose one of the options in each row"))
                answer[row.value] = sent[0]
        else:
            raw = get(self.key)
            if raw is MISSING or raw is None:
                raw = {}
            if not isinstance(raw, dict):
                raise Refused(N_("Send an object with one chosen column per row"))
            rows = {row.value for row in self.rows}
            for row_value, column in raw.items():
                if row_value not in rows:
                    shown = row_value if len(row_value) <= 40 else row_value[:40] + "…"
                    raise Refused(N_("'%(value)s' is not a row of this question", value=shown))
                if not isinstance(column, str) or column not in allowed:
                    raise Refused(N_("Choose one of the options in each row"))
                answer[row_value] = column
        if self.required and answer and len(answer) < len(self.rows):
            missing = [row.label for row in self.rows if row.value not in answer]
            raise Refused(N_("Answer every row (missing: %(rows)s)", rows="; ".join(missing)))
        # Rows in the question's order, whatever order they were sent in.
        ordered = {row.value: answer[row.value] for row in self.rows if row.value in answer}
        return {self.key: ordered} if ordered else {}

    def export_columns(self) -> list[Column]:
        return [
            Column(
                f"{self.key}.{row.value}",
                f"{self.label}: {row.label}",
                question_type=self.type,
                path=(self.key, row.value),
            )
            for row in self.rows
        ]

    def value_words(self, value: Any, answers: dict[str, Any], lang: str) -> str:
        if not isinstance(value, dict):
            return str(value)
        labels = {column.value: column.label for column in self.columns}
        return "; ".join(
            f"{row.label}: {labels.get(str(value[row.value]), str(value[row.value]))}"
            for row in self.rows
            if row.value in value
        )

    def choices(self, lang: str) -> list[tuple[str, str]]:
        return [(column.value, column.label) for column in self.columns]

    def filters(self, lang: str) -> list[FilterSpec]:
        return [
            FilterSpec(
                f"{self.key}.{row.value}",
                f"{self.label}: {row.label}",
                self.choices(lang),
                (self.key, row.value),
            )
            for row in self.rows
        ]

    def summary_paths(self) -> list[tuple[str, ...]]:
        return [(self.key, row.value) for row in self.rows]

    def summary(self, counts: list[Counter[str]], answered: int, lang: str) -> Any:
        """Per row: its label, how many answered it, and a bar per column."""
        rows = []
        for row, counted in zip(self.rows, counts, strict=True):
            base = sum(counted.values())
            bars = [
                Bar(value, label, counted[value], percent(counted[value], base))
                for value, label in self.choices(lang)
            ]
            rows.append((row, base, bars))
        return rows
