"""The public results of a survey, for the follow-up post: the counts of the
questions its file lists, and quotes readers agreed to, with privacy built in.

- A question's breakdown stays hidden until it has ``min_responses`` answers.
- An answer chosen by 1 to 4 people is folded into "Other answers", and that
  line too is left out while it holds fewer than 5: no one can be singled out.
- A quote is shown only from a response whose consent question is ticked
  *and* that a staff member featured; never a name or an email address
  (only the text questions the file names are quoted).

The counts come from the staff summary's grouped pass (``reports.summarise``).
"""

from __future__ import annotations

from dataclasses import dataclass

from survey import store
from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.filters import ResponseFilter
from survey.i18n import N_, translate
from survey.questions import BaseQuestion
from survey.questions.base import Bar, percent
from survey.reports import summarise

SMALLEST_GROUP = 5
OTHER_ANSWERS = N_("Other answers")
OTHER_VALUE = "_other_answers"


@dataclass(frozen=True)
class QuestionResult:
    question: BaseQuestion
    answered: int
    bars: list[Bar] | None  # None: fewer than min_responses answers so far


@dataclass(frozen=True)
class Quote:
    question: str
    text: str


@dataclass(frozen=True)
class PublicResults:
    responses: int
    min_responses: int
    questions: list[QuestionResult]
    quotes: list[Quote]  # filled per request by featured_quotes


def public_results(
    database: Database, *, survey_id: int, definition: SurveyDefinition, lang: str
) -> PublicResults:
    """``definition`` in the reader's language; its ``results`` must be set."""
    settings = definition.results
    assert settings is not None
    by_key = {q.key: q for q in definition.questions}
    listed: list[BaseQuestion] = [by_key[key] for key in settings.questions if key in by_key]
    summary = summarise(
        database, survey_id=survey_id, questions=listed, where=ResponseFilter(), lang=lang
    )
    questions = [
        QuestionResult(
            item.question,
            item.answered,
            _folded(item.detail, item.answered, lang)
            if item.answered >= settings.min_responses and item.detail is not None
            else None,
        )
        for item in summary.questions
    ]
    return PublicResults(summary.responses, settings.min_responses, questions, [])


def featured_quotes(
    database: Database, *, survey_id: int, definition: SurveyDefinition
) -> list[Quote]:
    """The quotes the page shows, read on every request (not cached): an
    erased or deleted response's words are gone from the page at once."""
    settings = definition.results
    if settings is None or settings.quotes is None:
        return []
    by_key = {q.key: q for q in definition.questions}
    with database.engine.connect() as conn:
        featured = store.featured_answers(conn, survey_id=survey_id)
    quotes: list[Quote] = []
    for _, answers in featured:
        if answers.get(settings.quotes.consent) not in (True, 1, "true", "yes"):
            continue
        for key in settings.quotes.from_:
            text = answers.get(key)
            if isinstance(text, str) and text.strip() and key in by_key:
                quotes.append(Quote(by_key[key].label, text.strip()))
    return quotes[:20]


def _folded(bars: list[Bar], answered: int, lang: str) -> list[Bar]:
    """Answers chosen by fewer than SMALLEST_GROUP people become one line."""
    kept = [bar for bar in bars if bar.count == 0 or bar.count >= SMALLEST_GROUP]
    folded = sum(bar.count for bar in bars if 0 < bar.count < SMALLEST_GROUP)
    if folded >= SMALLEST_GROUP:
        label = translate(OTHER_ANSWERS, lang)
        kept.append(Bar(OTHER_VALUE, label, folded, percent(folded, answered)))
    return kept
