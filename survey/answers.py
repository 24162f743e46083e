"""Submitted values + a survey definition -> clean answers, or a message per key.

Shared by the HTML form (strings, a multiple-choice answer as repeated
fields) and the JSON API (typed JSON values), so that both accept and refuse
exactly the same answers.  No HTTP, no SQL here.

``show_if`` is enforced here: a question whose condition does not hold is never
required and its answer is dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from email_validator import EmailNotValidError, validate_email

from survey.countries import COUNTRY_CODES
from survey.definitions import (
    OTHER,
    ConsentQuestion,
    CountryQuestion,
    DateQuestion,
    EmailQuestion,
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    RatingQuestion,
    SingleChoiceQuestion,
    SurveyDefinition,
    TextQuestion,
    YesNoQuestion,
)
from survey.i18n import N_

Answers = dict[str, Any]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# NUL cannot be stored by PostgreSQL, and lone surrogates cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_source(value: str | None) -> str | None:
    """The page a response came from, if it is a plausible http(s) address;
    anything else is dropped rather than refusing the person's answers."""
    if not value or len(value) > 2000 or _UNSTORABLE.search(value):
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


class InvalidAnswers(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class _Refused(Exception):
    """One answer that cannot be accepted; the message is for the person."""


_MISSING = object()

REQUIRED_MESSAGES = {
    "short_text": N_("Enter your answer"),
    "long_text": N_("Enter your answer"),
    "email": N_("Enter an email address"),
    "number": N_("Enter a number"),
    "date": N_("Enter a date"),
    "single_choice": N_("Choose an option"),
    "multiple_choice": N_("Choose at least one option"),
    "yes_no": N_("Choose yes or no"),
    "rating": N_("Choose a rating"),
    "country": N_("Choose a country"),
    "consent": N_("Tick the box to agree"),
}


def clean_form(definition: SurveyDefinition, fields: Mapping[str, Sequence[str]]) -> Answers:
    """Answers from an HTML form: each key maps to the list of values sent for it.

    Fields that are not questions (tokens, buttons) are ignored.
    """
    return _clean(definition, lambda key: _form_value(fields.get(key, ())), from_form=True)


def clean_json(definition: SurveyDefinition, raw: Mapping[str, Any]) -> Answers:
    """Answers from the JSON API; keys that are not questions are an error."""
    known = set(_accepted_keys(definition))
    unknown: dict[str, str] = {
        key: N_("This is not a question of this survey") for key in raw if key not in known
    }
    try:
        answers = _clean(definition, lambda key: raw.get(key, _MISSING), from_form=False)
    except InvalidAnswers as exc:
        raise InvalidAnswers(unknown | exc.errors) from None
    if unknown:
        raise InvalidAnswers(unknown)
    return answers


def _accepted_keys(definition: SurveyDefinition) -> list[str]:
    keys = []
    for question in definition.questions:
        keys.append(question.key)
        if isinstance(question, MultipleChoiceQuestion) and question.allow_other:
            keys.append(question.other_key)
    return keys


def _form_value(values: Sequence[str]) -> Any:
    present = [v for v in values if v.strip()]
    return present if present else _MISSING


def _clean(definition: SurveyDefinition, get: Callable[[str], Any], *, from_form: bool) -> Answers:
    answers: Answers = {}
    errors: dict[str, str] = {}
    visible: set[str] = set()
    for question in definition.questions:
        if not _applies(question, answers, visible):
            continue
        visible.add(question.key)
        raw = get(question.key)
        try:
            if isinstance(question, MultipleChoiceQuestion):
                other = get(question.other_key) if question.allow_other else _MISSING
                chosen, other_text = _multiple_choice(question, raw, other, from_form=from_form)
                if other_text is not _MISSING:
                    answers[question.other_key] = other_text
                value = chosen or _MISSING
            elif raw is _MISSING or raw is None:
                value = _MISSING
            else:
                value = _one(question, raw, from_form=from_form)
        except _Refused as exc:
            errors[_error_key(question, exc)] = exc.args[0]
            continue
        if value is _MISSING:
            if question.required:
                errors[question.key] = REQUIRED_MESSAGES[question.type]
            continue
        answers[question.key] = value
    if errors:
        raise InvalidAnswers(errors)
    return {key: answers[key] for key in _accepted_keys(definition) if key in answers}


class _OtherRefused(_Refused):
    pass


def _error_key(question: Question, exc: _Refused) -> str:
    if isinstance(exc, _OtherRefused) and isinstance(question, MultipleChoiceQuestion):
        return question.other_key
    return question.key


def _applies(question: Question, answers: Answers, visible: set[str]) -> bool:
    for ref, values in (question.show_if or {}).items():
        if ref not in visible or ref not in answers:
            return False
        given = answers[ref]
        chosen = given if isinstance(given, list) else [given]
        if not any(str(v) in values for v in chosen):
            return False
    return True


def _one(question: Question, raw: Any, *, from_form: bool) -> Any:
    if from_form:
        raw = raw[0]
    match question:
        case TextQuestion():
            return _text(raw, question.max_length, from_form=from_form)
        case EmailQuestion():
            return _email(raw, question.max_length)
        case NumberQuestion():
            return _number(question, raw, from_form=from_form)
        case DateQuestion():
            return _date(raw)
        case SingleChoiceQuestion():
            if isinstance(raw, str) and raw in (question.choice_values() or ()):
                return raw
            raise _Refused(N_("Choose one of the options"))
        case YesNoQuestion():
            if raw in ("yes", "no"):
                return raw
            raise _Refused(N_("Answer yes or no"))
        case RatingQuestion():
            return _rating(question, raw, from_form=from_form)
        case CountryQuestion():
            code = raw.strip().upper() if isinstance(raw, str) else None
            if code in COUNTRY_CODES:
                return code
            raise _Refused(N_("Choose a country from the list"))
        case ConsentQuestion():
            return _consent(raw, from_form=from_form)
    raise AssertionError(f"unhandled question type {question.type}")  # pragma: no cover


def _text(raw: Any, max_length: int, *, from_form: bool) -> Any:
    if not isinstance(raw, str):
        raise _Refused(N_("Enter text"))
    if from_form:
        # Browsers send a textarea's line breaks as CRLF but count them as one
        # character against maxlength; store what the person saw.
        raw = raw.replace("\r\n", "\n")
    if not raw.strip():
        return _MISSING
    if _UNSTORABLE.search(raw):
        raise _Refused(N_("Remove the invisible control characters from your answer"))
    if len(raw) > max_length:
        raise _Refused(
            N_(
                "Use %(limit)s characters or fewer (you used %(used)s)",
                limit=f"{max_length:,}",
                used=f"{len(raw):,}",
            )
        )
    return raw


def _email(raw: Any, max_length: int) -> Any:
    if not isinstance(raw, str):
        raise _Refused(N_("Enter an email address"))
    address = raw.strip()
    if not address:
        return _MISSING
    if len(address) > max_length or _UNSTORABLE.search(address):
        raise _Refused(N_("Enter an email address in the correct format, like name@example.com"))
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise _Refused(
            "Enter an email address in the correct format, like name@example.com"
        ) from None
    return address


def _number(question: NumberQuestion, raw: Any, *, from_form: bool) -> Any:
    value: float
    if from_form and isinstance(raw, str):
        text = raw.strip().replace(" ", "")
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
            raise _Refused(N_("Enter a number, like 12 or 3.5"))
        value = float(text)
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    else:
        raise _Refused(N_("Enter a number, like 12 or 3.5"))
    if not math.isfinite(value):
        raise _Refused(N_("Enter a number, like 12 or 3.5"))
    if question.integer and not value.is_integer():
        raise _Refused(N_("Enter a whole number"))
    low, high = question.min, question.max
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            raise _Refused(
                N_("Enter a number between %(low)s and %(high)s", low=_fmt(low), high=_fmt(high))
            )
        if low is not None:
            raise _Refused(N_("Enter a number of at least %(low)s", low=_fmt(low)))
        raise _Refused(N_("Enter a number of at most %(high)s", high=_fmt(high)))
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _fmt(number: float | None) -> str:
    assert number is not None
    return str(int(number)) if number.is_integer() else str(number)


def _date(raw: Any) -> Any:
    if isinstance(raw, str) and _DATE.match(raw.strip()):
        try:
            return date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    raise _Refused(N_("Enter a real date as YYYY-MM-DD, like 2027-03-15"))


def _rating(question: RatingQuestion, raw: Any, *, from_form: bool) -> Any:
    value: Any = raw
    if from_form and isinstance(raw, str) and raw.strip().isdigit():
        value = int(raw.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= question.scale:
        return value
    raise _Refused(N_("Choose a rating from 1 to %(scale)s", scale=question.scale))


def _consent(raw: Any, *, from_form: bool) -> Any:
    if from_form:
        return True  # a ticked checkbox sends its value; an unticked one sends nothing
    if raw is True:
        return True
    if raw is False:
        return _MISSING
    raise _Refused(N_("Send true to give consent"))


def _multiple_choice(
    question: MultipleChoiceQuestion, raw: Any, other_raw: Any, *, from_form: bool
) -> tuple[list[str], Any]:
    """The chosen values, and the "Other" text (or _MISSING)."""
    if raw is _MISSING or raw is None:
        chosen: list[str] = []
    elif isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        chosen = list(dict.fromkeys(raw))  # a value sent twice counts once
    else:
        raise _Refused(N_("Send the chosen options as a list of option values"))
    allowed = question.choice_values() or []
    for value in chosen:
        if value not in allowed:
            shown = value if len(value) <= 40 else value[:40] + "…"
            raise _Refused(N_("'%(value)s' is not one of the options", value=shown))
    other_text = _MISSING
    if other_raw is not _MISSING and other_raw is not None:
        if from_form:
            other_raw = other_raw[0]
        try:
            other_text = _text(other_raw, question.other_max_length, from_form=from_form)
        except _Refused as exc:
            raise _OtherRefused(exc.args[0]) from None
    if other_text is not _MISSING and OTHER not in chosen:
        chosen.append(OTHER)  # typing into "Other" means choosing it
    if OTHER in chosen and other_text is _MISSING:
        raise _OtherRefused(N_("Describe your answer for '%(label)s'", label=question.other_label))
    if question.max_choices is not None and len(chosen) > question.max_choices:
        raise _Refused(N_("Choose at most %(count)s options", count=question.max_choices))
    return chosen, other_text
