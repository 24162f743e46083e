"""The registry of question kinds.

Each kind lives in a module of its own and says everything about itself:
its fields and checks, how a sent value is cleaned, its export columns, how
it reads as words and how it is summarised and filtered on staff pages, and
which template partial renders it.  Everything else (the survey file, the
form, the JSON API, the exports, the staff pages) goes through ``Question``
and the hooks of ``BaseQuestion``; nothing branches on a type name.

To add a kind: write ``survey/questions/<kind>.py`` with a ``BaseQuestion``
subclass, its partial ``templates/questions/_q_<kind>.html``, add the class
to ``KINDS`` below, and translate its messages.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from survey.questions.base import (
    MISSING,
    OTHER,
    BaseQuestion,
    Column,
    FilterSpec,
    Option,
    Refused,
    dump_question,
    options_from_labels,
)
from survey.questions.choice import MultipleChoiceQuestion, SingleChoiceQuestion
from survey.questions.consent import ConsentQuestion
from survey.questions.country import CountryQuestion
from survey.questions.date import DateQuestion
from survey.questions.email import EmailQuestion
from survey.questions.hidden import HiddenQuestion
from survey.questions.matrix import MatrixQuestion
from survey.questions.number import NumberQuestion
from survey.questions.ranking import RankingQuestion
from survey.questions.rating import RatingQuestion
from survey.questions.text import LongTextQuestion, ShortTextQuestion
from survey.questions.yes_no import YesNoQuestion

KINDS: dict[str, type[BaseQuestion]] = {
    kind.model_fields["type"].annotation.__args__[0]: kind  # type: ignore[union-attr]
    for kind in (
        ShortTextQuestion,
        LongTextQuestion,
        EmailQuestion,
        NumberQuestion,
        DateQuestion,
        SingleChoiceQuestion,
        MultipleChoiceQuestion,
        YesNoQuestion,
        RatingQuestion,
        CountryQuestion,
        ConsentQuestion,
        MatrixQuestion,
        RankingQuestion,
        HiddenQuestion,
    )
}

Question = Annotated[
    ShortTextQuestion
    | LongTextQuestion
    | EmailQuestion
    | NumberQuestion
    | DateQuestion
    | SingleChoiceQuestion
    | MultipleChoiceQuestion
    | YesNoQuestion
    | RatingQuestion
    | CountryQuestion
    | ConsentQuestion
    | MatrixQuestion
    | RankingQuestion
    | HiddenQuestion,
    Field(discriminator="type"),
]

_QUESTIONS: TypeAdapter[list[Question]] = TypeAdapter(list[Question])


def kind_names() -> str:
    return ", ".join(KINDS)


def stored_questions(raw: list[dict[str, Any]]) -> list[BaseQuestion]:
    """The questions of a stored survey version, as the models they were.

    Every stored version was checked when it was loaded; a question that no
    longer passes the checks (written by hand, or by an old release) is
    still read, as its kind with the fields it has, so that its answers can
    be exported and shown.
    """
    try:
        return list(_QUESTIONS.validate_python(raw))
    except ValidationError:
        return [_lenient(item) for item in raw]


def _lenient(raw: dict[str, Any]) -> BaseQuestion:
    kind = KINDS.get(str(raw.get("type", "short_text")), ShortTextQuestion)
    try:
        return kind.model_validate({"type": "short_text", **raw})
    except ValidationError:
        fields = {**raw, "type": raw.get("type", "short_text")}
        for items in kind.option_lists:
            options = options_from_labels(fields.get(items) or [])
            fields[items] = [Option.model_construct(**o) for o in options if isinstance(o, dict)]
        return kind.model_construct(**fields)


__all__ = [
    "KINDS",
    "MISSING",
    "OTHER",
    "BaseQuestion",
    "Column",
    "FilterSpec",
    "Question",
    "Refused",
    "dump_question",
    "kind_names",
    "stored_questions",
]
