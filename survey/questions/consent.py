"""A box to tick to agree (stored as true; not ticked is no answer)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from survey.i18n import N_, Message, translate
from survey.questions.base import BARS, BOOLEAN, MISSING, BaseQuestion, Refused

AGREED, NOT_AGREED = N_("Agreed"), N_("Did not agree")


class ConsentQuestion(BaseQuestion):
    partial: ClassVar[str] = "questions/_q_consent.html"
    required_message: ClassVar[Message] = N_("Tick the box to agree")
    cell_kind: ClassVar[str] = BOOLEAN
    summary_shape: ClassVar[str] = BARS
    blank_is_an_answer: ClassVar[bool] = True  # not ticked: did not agree

    type: Literal["consent"]

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        if from_form:
            return True  # a ticked checkbox sends its value; an unticked one sends nothing
        if raw is True:
            return True
        if raw is False:
            return MISSING
        raise Refused(N_("Send true to give consent"))

    def choices(self, lang: str) -> list[tuple[str, str]]:
        return [("true", translate(AGREED, lang))]

    def summary_items(self, text: str) -> list[str]:
        # Stored true: SQLite's text of it is "1", PostgreSQL's "true".
        return ["true" if text in ("1", "true") else text]

    def value_words(self, value: Any, answers: dict[str, Any], lang: str) -> str:
        agreed = value in (True, 1, "true")
        return translate(AGREED if agreed else NOT_AGREED, lang)
