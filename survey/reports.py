"""The summary page: per question, counts and percentages (or the latest
text answers), over the responses a filter keeps.

``summarise`` is the glue between the queries in ``store`` and the summary
page, as ``export.csv_from_database`` is for the CSV export: it opens its own
connections.  What is counted and how it shows is each question kind's own
(``summary_paths``, ``summary_items``, ``summary``, ``summary_shape``).
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from survey import store
from survey.db import Database
from survey.filters import ResponseFilter
from survey.questions import BaseQuestion
from survey.questions.base import LATEST


@dataclass(frozen=True)
class QuestionSummary:
    question: BaseQuestion
    answered: int
    detail: Any  # the kind's summary: bars, rows of bars, ranks
    latest: list[tuple[int, str]]  # for text questions: (response id, answer)

    @property
    def shape(self) -> str:
        return self.question.summary_shape

    @property
    def partial(self) -> str:
        return f"admin/_summary_{self.shape}.html"

    @property
    def several_answers(self) -> bool:
        return self.question.several_answers


@dataclass(frozen=True)
class Summary:
    responses: int
    questions: list[QuestionSummary]


def summarise(
    database: Database,
    *,
    survey_id: int,
    questions: list[BaseQuestion],
    where: ResponseFilter,
    lang: str = "en",
    latest: int = 5,
) -> Summary:
    """The summary of the current questions over the responses the filter keeps.

    Every count comes from one grouped pass in the database
    (``store.answer_groups``); no response is read into Python.  On SQLite,
    where pulling answers out of JSON text is the cost, the grouped questions
    and the text questions are counted in two passes at once, on two
    connections (WAL lets readers run side by side, and the driver lets go of
    the GIL while SQLite works): on two cores that halves the wait.
    """
    grouped = [q for q in questions if q.summary_shape != LATEST]
    texts = [q for q in questions if q.summary_shape == LATEST]
    group_paths = [path for q in grouped for path in q.summary_paths()]
    count_paths: list[tuple[str, ...]] = [(q.key,) for q in texts]

    def groups(group: list[tuple[str, ...]], count: list[tuple[str, ...]]) -> list[tuple[Any, ...]]:
        with database.engine.connect() as conn:
            return store.answer_groups(
                conn, survey_id=survey_id, where=where, group_paths=group, count_paths=count
            )

    def newest() -> dict[str, list[tuple[int, str]]]:
        # The latest written answers: of text questions, and choices' "Other" texts.
        with database.engine.connect() as conn:
            return {
                q.key: store.latest_answers(
                    conn, survey_id=survey_id, where=where, path=(key,), limit=latest
                )
                for q in questions
                if (key := q.written_key()) is not None
            }

    if database.settings.is_sqlite:
        with ThreadPoolExecutor(max_workers=2) as pool:
            choice_rows = pool.submit(groups, group_paths, [])
            text_rows = pool.submit(groups, [], count_paths)
            latest_texts = newest()
            rows, text_totals = choice_rows.result(), text_rows.result()[0]
    else:
        rows = groups(group_paths, count_paths)
        text_totals = None
        latest_texts = newest()

    width = len(group_paths)
    counts: dict[str, list[Counter[str]]] = {
        q.key: [Counter() for _ in q.summary_paths()] for q in grouped
    }
    answered = dict.fromkeys([q.key for q in questions], 0)
    total = 0
    for row in rows:
        responses = int(row[width])
        total += responses
        values = iter(row[:width])
        for question in grouped:
            mine = [next(values) for _ in question.summary_paths()]
            if all(value is None or value == "" for value in mine):
                continue
            answered[question.key] += responses
            for counter, value in zip(counts[question.key], mine, strict=True):
                if value is None or value == "":
                    continue
                for item in question.summary_items(value):
                    counter[item] += responses
        if text_totals is None:
            for question, value in zip(texts, row[width + 1 :], strict=True):
                answered[question.key] += int(value)
    if text_totals is not None:
        total = int(text_totals[0])
        answered.update(zip([q.key for q in texts], map(int, text_totals[1:]), strict=True))

    summaries = [
        QuestionSummary(
            question,
            answered[question.key],
            question.summary(
                counts[question.key],
                total if question.blank_is_an_answer else answered[question.key],
                lang,
            )
            if question.key in counts
            else None,
            latest_texts.get(question.key, []),
        )
        for question in questions
    ]
    return Summary(total, summaries)
