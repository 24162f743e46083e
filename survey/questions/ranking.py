"""Put options in order of preference (all of them, or the top ``max_ranked``).

Answer: the ordered list of option values, first choice first.  In the form
(no JavaScript needed) one select of ranks per option, named
``<key>.<option>``; the form's script adds buttons that move an option up or
down.  ``required`` means ranking every option, or ``max_ranked`` of them.
Exported as one cell, ``first; second; third``; summarised by mean rank and
the number of first places; filtered by the first choice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from survey.i18n import N_, Message, translate
from survey.questions.base import (
    CHOICES,
    MISSING,
    RANKING,
    BaseQuestion,
    Column,
    FilterSpec,
    Option,
    OptionList,
    Refused,
    json_list,
)


class RankingQuestion(BaseQuestion):
    partial: ClassVar[str] = "questions/_q_ranking.html"
    script: ClassVar[str | None] = "ranking.js"
    required_message: ClassVar[Message] = N_("Put the options in order")
    option_lists: ClassVar[tuple[str, ...]] = ("options",)
    cell_kind: ClassVar[str] = CHOICES
    summary_shape: ClassVar[str] = RANKING

    type: Literal["ranking"]
    options: OptionList = Field(min_length=2, max_length=20)
    max_ranked: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _max_within_options(self) -> RankingQuestion:
        if self.max_ranked is not None and self.max_ranked > len(self.options):
            raise ValueError("max_ranked must not be more than the number of options")
        return self

    @property
    def ranks(self) -> int:
        """How many ranks there are to give."""
        return self.max_ranked or len(self.options)

    def field_name(self, option: Option) -> str:
        return f"{self.key}.{option.value}"

    def clean(self, get: Callable[[str], Any], *, from_form: bool) -> dict[str, Any]:
        values = [option.value for option in self.options]
        if from_form:
            ranked: dict[int, str] = {}
            for option in self.options:
                sent = get(self.field_name(option))
                if sent is MISSING:
                    continue
                text = sent[0].strip()
                if not text.isdigit() or not 1 <= int(text) <= self.ranks:
                    raise Refused(N_("Choose a rank from 1 to %(count)s", count=self.ranks))
                if int(text) in ranked:
                    raise Refused(N_("Give each rank to one option only"))
                ranked[int(text)] = option.value
            order = [ranked[rank] for rank in sorted(ranked)]
        else:
            raw = get(self.key)
            if raw is MISSING or raw is None:
                raw = []
            if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
                raise Refused(N_("Send the options as a list, first choice first"))
            for value in raw:
                if value not in values:
                    shown = value if len(value) <= 40 else value[:40] + "…"
                    raise Refused(N_("'%(value)s' is not one of the options", value=shown))
            if len(set(raw)) != len(raw):
                raise Refused(N_("Give each rank to one option only"))
            order = list(raw)
        if len(order) > self.ranks:
            raise Refused(N_("Rank at most %(count)s options", count=self.ranks))
        if self.required and order and len(order) < self.ranks:
            raise Refused(N_("Rank %(count)s options", count=self.ranks))
        return {self.key: order} if order else {}

    def export_columns(self) -> list[Column]:
        return [Column(self.key, self.label, CHOICES, question_type=self.type)]

    def value_words(self, value: Any, answers: dict[str, Any], lang: str) -> str:
        labels = {option.value: option.label for option in self.options}
        items = value if isinstance(value, list) else [value]
        return "; ".join(f"{n}. {labels.get(item, str(item))}" for n, item in enumerate(items, 1))

    def choices(self, lang: str) -> list[tuple[str, str]]:
        return [(option.value, option.label) for option in self.options]

    def filters(self, lang: str) -> list[FilterSpec]:
        label = translate(N_("%(label)s (first choice)", label=self.label), lang)
        return [FilterSpec(self.key, label, self.choices(lang), (self.key,), "first")]

    def summary_items(self, text: str) -> list[str]:
        # Each chosen option with its place, so that the summary can average them.
        return [f"{place}\t{value}" for place, value in enumerate(json_list(text), 1)]

    def summary(self, counts: list[Counter[str]], answered: int, lang: str) -> Any:
        """Per option: how many ranked it, its mean rank, how often it came
        first; best (lowest) mean rank first, options nobody ranked last."""
        places: dict[str, list[int]] = {option.value: [0, 0, 0] for option in self.options}
        for item, responses in counts[0].items():
            place, _, value = item.partition("\t")
            if value in places:
                tally = places[value]
                tally[0] += responses
                tally[1] += int(place) * responses
                tally[2] += responses if place == "1" else 0
        lines = [
            RankLine(option.label, ranked, round(total / ranked, 2) if ranked else None, first)
            for option in self.options
            for ranked, total, first in [places[option.value]]
        ]
        return sorted(lines, key=lambda line: (line.mean is None, line.mean or 0))


@dataclass(frozen=True)
class RankLine:
    """One option's line in the ranking summary."""

    label: str
    ranked: int  # how many responses ranked it
    mean: float | None  # its mean place, None when nobody ranked it
    first: int  # how many put it first
