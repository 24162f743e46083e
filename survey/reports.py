"""What the staff pages show of responses: each answer as a person reads it,
and the per-question summary (counts, percentages, the latest text answers).

``summarise`` is the glue between the queries in ``store`` and the summary
page, as ``export.csv_from_database`` is for the CSV export: it opens its own
connections.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from survey import store
from survey.countries import country_name
from survey.db import Database
from survey.filters import CHOICE_TYPES, ResponseFilter, choice_values

TEXT_SUMMARY_TYPES = ("short_text", "long_text", "email", "number", "date")
CHART_TYPES = (*CHOICE_TYPES, "consent")


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
        return str(self.question["type"]) in CHART_TYPES

    @property
    def several_answers(self) -> bool:
        return bool(self.question["type"] == "multiple_choice")


@dataclass(frozen=True)
class Summary:
    responses: int
    questions: list[QuestionSummary]


def summarise(
    database: Database,
    *,
    survey_id: int,
    questions: list[dict[str, Any]],
    types: dict[str, str],
    where: ResponseFilter,
    latest: int = 5,
) -> Summary:
    """The summary of the current questions over the responses the filter keeps.

    Every count comes from one grouped pass in the database
    (``store.answer_groups``); no response is read into Python.  On SQLite,
    where pulling answers out of JSON text is the cost, the choice questions
    and the text questions are counted in two passes at once, on two
    connections (WAL lets readers run side by side, and the driver lets go of
    the GIL while SQLite works): on two cores that halves the wait.
    """
    charts = [q for q in questions if q["type"] in CHART_TYPES]
    texts = [q for q in questions if q["type"] not in CHART_TYPES]
    group_keys = [q["key"] for q in charts]
    count_keys = [q["key"] for q in texts]
    latest_keys = [q["key"] for q in texts if q["type"] in TEXT_SUMMARY_TYPES]

    def groups(group: list[str], count: list[str]) -> list[tuple[Any, ...]]:
        with database.engine.connect() as conn:
            return store.answer_groups(
                conn,
                survey_id=survey_id,
                where=where,
                types=types,
                group_keys=group,
                count_keys=count,
            )

    def newest() -> dict[str, list[tuple[int, str]]]:
        with database.engine.connect() as conn:
            return {
                key: store.latest_answers(
                    conn, survey_id=survey_id, where=where, types=types, key=key, limit=latest
                )
                for key in latest_keys
            }

    if database.settings.is_sqlite:
        with ThreadPoolExecutor(max_workers=2) as pool:
            choice_rows = pool.submit(groups, group_keys, [])
            text_rows = pool.submit(groups, [], count_keys)
            latest_texts = newest()
            rows, text_totals = choice_rows.result(), text_rows.result()[0]
    else:
        rows = groups(group_keys, count_keys)
        text_totals = None
        latest_texts = newest()

    width = len(group_keys)
    counts: dict[str, Counter[str]] = {key: Counter() for key in group_keys}
    answered = dict.fromkeys(group_keys + count_keys, 0)
    total = 0
    for row in rows:
        responses = int(row[width])
        total += responses
        for key, value in zip(group_keys, row[:width], strict=True):
            if value is None or value == "":
                continue
            answered[key] += responses
            if types.get(key) == "multiple_choice":
                chosen = _json_list(value)
                for item in chosen:
                    counts[key][str(item)] += responses
            else:
                counts[key][str(value)] += responses
        if text_totals is None:
            for key, value in zip(count_keys, row[width + 1 :], strict=True):
                answered[key] += int(value)
    if text_totals is not None:
        total = int(text_totals[0])
        answered.update(zip(count_keys, map(int, text_totals[1:]), strict=True))

    summaries = []
    for question in questions:
        key, kind = question["key"], question["type"]
        bars: list[Bar] = []
        if kind in CHART_TYPES:
            base = answered[key]
            chosen_counts = counts[key]
            if kind == "consent":  # stored true: SQLite's text of it is "1"
                options = [("1" if database.settings.is_sqlite else "true", "Agreed")]
            else:
                options = choice_values(question)
            if kind == "country":  # 249 countries: only those someone chose
                options = sorted(
                    (o for o in options if chosen_counts.get(o[0])),
                    key=lambda o: -chosen_counts[o[0]],
                )
            bars = [
                Bar(value, label, chosen_counts[value], _percent(chosen_counts[value], base))
                for value, label in options
            ]
        summaries.append(QuestionSummary(question, answered[key], bars, latest_texts.get(key, [])))
    return Summary(total, summaries)


def _json_list(text: Any) -> list[Any]:
    if isinstance(text, list):
        return text
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def _percent(count: int, base: int) -> float:
    return round(100 * count / base, 1) if base else 0.0
