"""What the staff pages show of responses: each answer as a person reads it,
and the per-question summary (counts, percentages, the latest text answers).

``summarise`` is the glue between the queries in ``store`` and the summary
page, as ``export.csv_from_database`` is for the CSV export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from survey import store
from survey.countries import country_name
from survey.filters import CHOICE_TYPES, ResponseFilter, choice_values

TEXT_SUMMARY_TYPES = ("short_text", "long_text", "email", "number", "date")


def answer_text(question: dict[str, Any], answers: dict[str, Any]) -> str:
    """An answer as words: option labels, country names, "Yes"; "" if none."""
    value = answers.get(question["key"])
    if value is None or value == "":
        return ""
    kind = question["type"]
    if kind == "consent":
        return "Agreed" if value in (True, 1, "true") else "Did not agree"
    if kind == "yes_no":
        return {"yes": "Yes", "no": "No"}.get(str(value), str(value))
    if kind == "country":
        return country_name(str(value))
    if kind in ("single_choice", "multiple_choice"):
        labels = {o["value"]: o["label"] for o in question.get("options", [])}
        other = answers.get(f"{question['key']}_other")
        chosen = value if isinstance(value, list) else [value]
        words = []
        for item in chosen:
            if item == "other":
                name = question.get("other_label") or "Other"
                words.append(f"{name}: {other}" if other else name)
            else:
                words.append(labels.get(item, str(item)))
        return "; ".join(words)
    return str(value)


@dataclass(frozen=True)
class Bar:
    value: str
    label: str
    count: int
    percent: float  # of the responses that answered the question


@dataclass(frozen=True)
class QuestionSummary:
    question: dict[str, Any]
    answered: int
    bars: list[Bar]  # for choice questions
    latest: list[tuple[int, str]]  # for text questions: (response id, answer)

    @property
    def is_chart(self) -> bool:
        return str(self.question["type"]) in (*CHOICE_TYPES, "consent")

    @property
    def several_answers(self) -> bool:
        return bool(self.question["type"] == "multiple_choice")


@dataclass(frozen=True)
class Summary:
    responses: int
    questions: list[QuestionSummary]


def summarise(
    conn: sa.Connection,
    *,
    survey_id: int,
    questions: list[dict[str, Any]],
    types: dict[str, str],
    where: ResponseFilter,
    latest: int = 5,
) -> Summary:
    """The summary of the current questions over the responses the filter keeps.

    Each question costs one grouped query in the database; no response is
    read into Python, so 100,000 responses summarise as fast as the database
    can count them.
    """
    keys = [q["key"] for q in questions]
    total, answered = store.answered_counts(
        conn, survey_id=survey_id, where=where, types=types, keys=keys
    )
    summaries = []
    for question in questions:
        key, kind = question["key"], question["type"]
        bars: list[Bar] = []
        texts: list[tuple[int, str]] = []
        if kind in (*CHOICE_TYPES, "consent"):
            counts = store.choice_counts(
                conn, survey_id=survey_id, where=where, types=types, key=key
            )
            base = answered[key]
            if kind == "consent":
                options = (
                    [("1", "Agreed")] if conn.dialect.name == "sqlite" else [("true", "Agreed")]
                )
            else:
                options = choice_values(question)
            if kind == "country":  # 249 countries: only those someone chose
                options = sorted(
                    (o for o in options if counts.get(o[0])), key=lambda o: -counts[o[0]]
                )
            bars = [
                Bar(value, label, counts.get(value, 0), _percent(counts.get(value, 0), base))
                for value, label in options
            ]
        elif kind in TEXT_SUMMARY_TYPES:
            texts = store.latest_answers(
                conn, survey_id=survey_id, where=where, types=types, key=key, limit=latest
            )
        summaries.append(QuestionSummary(question, answered[key], bars, texts))
    return Summary(total, summaries)


def _percent(count: int, base: int) -> float:
    return round(100 * count / base, 1) if base else 0.0
