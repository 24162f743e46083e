"""A rating from 1 to a scale of 2 to 10, with optional words for its ends."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from survey.i18n import N_, Message
from survey.questions.base import BARS, NUMBER, BaseQuestion, Refused


class RatingQuestion(BaseQuestion):
    prefillable: ClassVar[bool] = True
    partial: ClassVar[str] = "questions/_q_rating.html"
    required_message: ClassVar[Message] = N_("Choose a rating")
    texts: ClassVar[tuple[str, ...]] = ("label", "help", "low_label", "high_label")
    cell_kind: ClassVar[str] = NUMBER
    summary_shape: ClassVar[str] = BARS
    filter_match: ClassVar[str | None] = "equals"

    type: Literal["rating"]
    scale: int = Field(default=5, ge=2, le=10)
    low_label: str | None = None
    high_label: str | None = None

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        value: Any = raw
        if from_form and isinstance(raw, str) and raw.strip().isdigit():
            value = int(raw.strip())
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= self.scale:
            return value
        raise Refused(N_("Choose a rating from 1 to %(scale)s", scale=self.scale))

    def choices(self, lang: str) -> list[tuple[str, str]]:
        return [(str(n), str(n)) for n in range(1, self.scale + 1)]
