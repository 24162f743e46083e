"""A calendar date, stored as YYYY-MM-DD."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar, Literal

from survey.i18n import N_, Message
from survey.questions.base import LATEST, BaseQuestion, Refused

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DateQuestion(BaseQuestion):
    prefillable: ClassVar[bool] = True
    partial: ClassVar[str] = "questions/_q_date.html"
    required_message: ClassVar[Message] = N_("Enter a date")
    summary_shape: ClassVar[str] = LATEST

    type: Literal["date"]

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        if isinstance(raw, str) and _DATE.match(raw.strip()):
            try:
                return date.fromisoformat(raw.strip()).isoformat()
            except ValueError:
                pass
        raise Refused(N_("Enter a real date as YYYY-MM-DD, like 2027-03-15"))
