"""A hidden field: never shown, filled only from the form's address or the
embed snippet's attributes (``?utm_campaign=spring``, a member type a
newsletter knows), stored and exported like a short text."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from survey.i18n import N_, Message
from survey.questions.base import LATEST, BaseQuestion, FilterSpec
from survey.questions.text import clean_text


class HiddenQuestion(BaseQuestion):
    partial: ClassVar[str] = "questions/_q_hidden.html"
    required_message: ClassVar[Message] = N_("Enter your answer")  # never: it cannot be required
    summary_shape: ClassVar[str] = LATEST
    searchable: ClassVar[bool] = True
    filter_match: ClassVar[str | None] = "equals"
    hidden_field: ClassVar[bool] = True
    prefillable: ClassVar[bool] = True

    type: Literal["hidden"]
    max_length: int = Field(default=200, ge=1, le=2000)

    @model_validator(mode="after")
    def _never_asked(self) -> HiddenQuestion:
        if self.required:
            raise ValueError("a hidden question cannot be required: readers never see it")
        if self.show_if:
            raise ValueError("a hidden question has no show_if: readers never see it")
        return self

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        return clean_text(raw, self.max_length, from_form=from_form)

    def filters(self, lang: str) -> list[FilterSpec]:
        # Any value: the staff member types it (no list of choices to pick from).
        return [FilterSpec(self.key, self.label, [], (self.key,), "equals")]
