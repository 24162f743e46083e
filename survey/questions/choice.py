"""Single and multiple choice from a list of options (with an optional "Other")."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from survey.i18n import N_, Message, translate
from survey.questions.base import (
    BARS,
    CHOICES,
    MISSING,
    OTHER,
    BaseQuestion,
    Column,
    OptionList,
    Refused,
    json_list,
)
from survey.questions.text import DEFAULT_MAX_LENGTH, clean_text


class _Choice(BaseQuestion):
    prefillable: ClassVar[bool] = True
    option_lists: ClassVar[tuple[str, ...]] = ("options",)
    summary_shape: ClassVar[str] = BARS

    options: OptionList = Field(min_length=1)

    def choice_values(self) -> list[str] | None:
        return [option.value for option in self.options]

    def choices(self, lang: str) -> list[tuple[str, str]]:
        return [(option.value, option.label) for option in self.options]

    def value_words(self, value: Any, answers: dict[str, Any], lang: str) -> str:
        labels = {option.value: option.label for option in self.options}
        return "; ".join(
            labels.get(item, str(item)) for item in (value if isinstance(value, list) else [value])
        )


class SingleChoiceQuestion(_Choice):
    partial: ClassVar[str] = "questions/_q_single_choice.html"
    required_message: ClassVar[Message] = N_("Choose an option")
    filter_match: ClassVar[str | None] = "equals"

    type: Literal["single_choice"]

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        if isinstance(raw, str) and raw in (self.choice_values() or ()):
            return raw
        raise Refused(N_("Choose one of the options"))


class MultipleChoiceQuestion(_Choice):
    partial: ClassVar[str] = "questions/_q_multiple_choice.html"
    required_message: ClassVar[Message] = N_("Choose at least one option")
    cell_kind: ClassVar[str] = CHOICES
    several_answers: ClassVar[bool] = True
    filter_match: ClassVar[str | None] = "contains"
    texts: ClassVar[tuple[str, ...]] = ("label", "help", "other_label")

    type: Literal["multiple_choice"]
    allow_other: bool = False
    other_label: str = "Other"
    other_max_length: int = Field(default=500, ge=1, le=DEFAULT_MAX_LENGTH)
    max_choices: int | None = Field(default=None, ge=1)

    def limits(self) -> Message | None:
        if self.max_choices is None:
            return None
        return N_("Choose up to %(count)s", count=self.max_choices)

    @model_validator(mode="after")
    def _other_is_reserved(self) -> MultipleChoiceQuestion:
        if self.allow_other and any(option.value == OTHER for option in self.options):
            raise ValueError(f"option value {OTHER!r} is reserved when allow_other is true")
        return self

    @property
    def other_key(self) -> str:
        return f"{self.key}_other"

    def answer_keys(self) -> list[str]:
        return [self.key, self.other_key] if self.allow_other else [self.key]

    def choice_values(self) -> list[str] | None:
        values = [option.value for option in self.options]
        return [*values, OTHER] if self.allow_other else values

    def written_key(self) -> str | None:
        return self.other_key if self.allow_other else None

    def form_choices(self) -> list[tuple[str, str]]:
        """The options as boxes; "Other" has a box and a text field of its own."""
        return [(option.value, option.label) for option in self.options]

    def choices(self, lang: str) -> list[tuple[str, str]]:
        values = super().choices(lang)
        if self.allow_other:
            values.append((OTHER, self.other_label or "Other"))
        return values

    def clean(self, get: Any, *, from_form: bool) -> dict[str, Any]:
        raw = get(self.key)
        if raw is MISSING or raw is None:
            chosen: list[str] = []
        elif isinstance(raw, list) and all(isinstance(v, str) for v in raw):
            chosen = list(dict.fromkeys(raw))  # a value sent twice counts once
        else:
            raise Refused(N_("Send the chosen options as a list of option values"))
        allowed = self.choice_values() or []
        for value in chosen:
            if value not in allowed:
                shown = value if len(value) <= 40 else value[:40] + "…"
                raise Refused(N_("'%(value)s' is not one of the options", value=shown))
        other_text = MISSING
        other_raw = get(self.other_key) if self.allow_other else MISSING
        if other_raw is not MISSING and other_raw is not None:
            try:
                other_text = clean_text(
                    other_raw[0] if from_form else other_raw,
                    self.other_max_length,
                    from_form=from_form,
                )
            except Refused as exc:
                raise Refused(exc.args[0], key=self.other_key) from None
        if other_text is not MISSING and OTHER not in chosen:
            chosen.append(OTHER)  # typing into "Other" means choosing it
        if OTHER in chosen and other_text is MISSING:
            raise Refused(
                N_("Describe your answer for '%(label)s'", label=self.other_label),
                key=self.other_key,
            )
        if self.max_choices is not None and len(chosen) > self.max_choices:
            raise Refused(N_("Choose at most %(count)s options", count=self.max_choices))
        answers: dict[str, Any] = {self.key: chosen} if chosen else {}
        if other_text is not MISSING:
            answers[self.other_key] = other_text
        return answers

    def export_columns(self) -> list[Column]:
        return [
            Column(
                self.key,
                self.label,
                CHOICES,
                question_type=self.type,
                options=tuple((o.value, o.label) for o in self.options),
                other=self.allow_other,
            )
        ]

    def summary_items(self, text: str) -> list[str]:
        return [str(item) for item in json_list(text)]

    def search_keys(self) -> list[str]:
        return [self.other_key]

    def value_words(self, value: Any, answers: dict[str, Any], lang: str) -> str:
        labels = {option.value: option.label for option in self.options}
        other = answers.get(self.other_key)
        words = []
        for item in value if isinstance(value, list) else [value]:
            if item == OTHER:
                name = self.other_label or translate(N_("Other"), lang)
                words.append(f"{name}: {other}" if other else name)
            else:
                words.append(labels.get(item, str(item)))
        return "; ".join(words)
