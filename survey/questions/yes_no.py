"""Yes or no."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from survey.i18n import N_, Message, translate
from survey.questions.base import BARS, BaseQuestion, Refused

YES, NO = N_("Yes"), N_("No")


class YesNoQuestion(BaseQuestion):
    prefillable: ClassVar[bool] = True
    partial: ClassVar[str] = "questions/_q_yes_no.html"
    required_message: ClassVar[Message] = N_("Choose yes or no")
    summary_shape: ClassVar[str] = BARS
    filter_match: ClassVar[str | None] = "equals"

    type: Literal["yes_no"]

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        if raw in ("yes", "no"):
            return raw
        raise Refused(N_("Answer yes or no"))

    def choice_values(self) -> list[str] | None:
        return ["yes", "no"]

    def choices(self, lang: str) -> list[tuple[str, str]]:
        return [("yes", translate(YES, lang)), ("no", translate(NO, lang))]

    def value_words(self, value: Any, answers: dict[str, Any], lang: str) -> str:
        return dict(self.choices(lang)).get(str(value), str(value))
