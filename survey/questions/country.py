"""A country, stored as its ISO 3166 code and shown by its name (CLDR)."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar, Literal

from survey.countries import COUNTRY_CODES, country_choices, country_name
from survey.i18n import N_, Message
from survey.questions.base import BARS, BaseQuestion, Refused


class CountryQuestion(BaseQuestion):
    prefillable: ClassVar[bool] = True
    partial: ClassVar[str] = "questions/_q_country.html"
    required_message: ClassVar[Message] = N_("Choose a country")
    summary_shape: ClassVar[str] = BARS
    filter_match: ClassVar[str | None] = "equals"

    type: Literal["country"]

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        code = raw.strip().upper() if isinstance(raw, str) else None
        if code in COUNTRY_CODES:
            return code
        raise Refused(N_("Choose a country from the list"))

    def choices(self, lang: str) -> list[tuple[str, str]]:
        return list(country_choices(lang))

    def summary(self, counts: list[Counter[str]], answered: int, lang: str) -> Any:
        # 249 countries: only those someone chose, most chosen first.
        bars = super().summary(counts, answered, lang)
        return sorted((bar for bar in bars if bar.count), key=lambda bar: -bar.count)

    def value_words(self, value: Any, answers: dict[str, Any], lang: str) -> str:
        return country_name(str(value), lang)
