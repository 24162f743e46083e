"""Submitted values + a survey definition -> clean answers, or a message per key.

Shared by the HTML form (strings, a multiple-choice answer as repeated
fields) and the JSON API (typed JSON values), so that both accept and refuse
exactly the same answers.  Each question kind cleans its own value
(``survey.questions``); this module walks the survey.  No HTTP, no SQL here.

``show_if`` is enforced here: a question whose condition does not hold is never
required and its answer is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from survey.definitions import SurveyDefinition
from survey.i18n import N_
from survey.questions import MISSING, BaseQuestion, Refused
from survey.questions.text import UNSTORABLE

Answers = dict[str, Any]


def clean_source(value: str | None) -> str | None:
    """The page a response came from, if it is a plausible http(s) address;
    anything else is dropped rather than refusing the person's answers."""
    if not value or len(value) > 2000 or UNSTORABLE.search(value):
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


class InvalidAnswers(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def clean_form(definition: SurveyDefinition, fields: Mapping[str, Sequence[str]]) -> Answers:
    """Answers from an HTML form: each key maps to the list of values sent for it.

    Fields that are not questions (tokens, buttons) are ignored.
    """
    return _clean(definition, lambda key: _form_value(fields.get(key, ())), from_form=True)


def clean_json(definition: SurveyDefinition, raw: Mapping[str, Any]) -> Answers:
    """Answers from the JSON API; keys that are not questions are an error."""
    known = set(accepted_keys(definition))
    unknown: dict[str, str] = {
        key: N_("This is not a question of this survey") for key in raw if key not in known
    }
    try:
        answers = _clean(definition, lambda key: raw.get(key, MISSING), from_form=False)
    except InvalidAnswers as exc:
        raise InvalidAnswers(unknown | exc.errors) from None
    if unknown:
        raise InvalidAnswers(unknown)
    return answers


def accepted_keys(definition: SurveyDefinition) -> list[str]:
    """Every answer key the survey stores, in the order of its questions."""
    return [key for question in definition.questions for key in question.answer_keys()]


def _form_value(values: Sequence[str]) -> Any:
    present = [v for v in values if v.strip()]
    return present if present else MISSING


def _clean(definition: SurveyDefinition, get: Callable[[str], Any], *, from_form: bool) -> Answers:
    answers: Answers = {}
    errors: dict[str, str] = {}
    visible: set[str] = set()
    for question in definition.questions:
        if not _applies(question, answers, visible):
            continue
        visible.add(question.key)
        try:
            given = question.clean(get, from_form=from_form)
        except Refused as exc:
            errors[exc.key or question.key] = exc.args[0]
            continue
        if question.key not in given and question.required:
            errors[question.key] = question.required_message
        answers.update(given)
    if errors:
        raise InvalidAnswers(errors)
    return {key: answers[key] for key in accepted_keys(definition) if key in answers}


def _applies(question: BaseQuestion, answers: Answers, visible: set[str]) -> bool:
    for ref, values in (question.show_if or {}).items():
        if ref not in visible or ref not in answers:
            return False
        given = answers[ref]
        chosen = given if isinstance(given, list) else [given]
        if not any(str(v) in values for v in chosen):
            return False
    return True


# Query parameters of the form page that are not answers.
PAGE_PARAMETERS = frozenset({"embed", "source", "lang"})


def prefill(
    definition: SurveyDefinition, params: Sequence[tuple[str, str]]
) -> dict[str, list[str]]:
    """Answers given in the form's address (``?visits_libraries=often``), as
    the form's own fields: only questions that take one, and only values their
    question accepts (anything else is ignored: nothing is stored until the
    reader sends the form, where every answer is checked again)."""
    sent: dict[str, list[str]] = {}
    for name, value in params:
        if name not in PAGE_PARAMETERS and len(sent) < 100:
            sent.setdefault(name, []).append(value)
    if not sent:
        return {}
    filled: dict[str, list[str]] = {}
    for question in definition.questions:
        values = sent.get(question.key)
        if not values or not question.prefillable:
            continue

        def get(key: str, own: str = question.key, given: list[str] = values) -> Any:
            return _form_value(given) if key == own else MISSING

        try:
            given = question.clean(get, from_form=True)
        except Refused:
            continue
        if question.key in given:
            filled[question.key] = [v for v in values if v.strip()]
    return filled
