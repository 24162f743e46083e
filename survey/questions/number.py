"""A number, optionally whole and within limits."""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar, Literal

from pydantic import model_validator

from survey.i18n import N_, Message
from survey.questions.base import LATEST, NUMBER, BaseQuestion, Refused

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
NOT_A_NUMBER = N_("Enter a number, like 12 or 3.5")


class NumberQuestion(BaseQuestion):
    prefillable: ClassVar[bool] = True
    partial: ClassVar[str] = "questions/_q_number.html"
    required_message: ClassVar[Message] = N_("Enter a number")
    cell_kind: ClassVar[str] = NUMBER
    summary_shape: ClassVar[str] = LATEST

    type: Literal["number"]
    min: float | None = None
    max: float | None = None
    integer: bool = False

    @model_validator(mode="after")
    def _range(self) -> NumberQuestion:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not be greater than max")
        return self

    def limits(self) -> Message | None:
        low, high = self.min, self.max
        if low is not None and high is not None:
            if self.integer:
                return N_("A whole number from %(low)s to %(high)s", low=_fmt(low), high=_fmt(high))
            return N_("A number from %(low)s to %(high)s", low=_fmt(low), high=_fmt(high))
        if low is not None:
            return N_("%(low)s or more", low=_fmt(low))
        if high is not None:
            return N_("%(high)s or less", high=_fmt(high))
        return N_("A whole number") if self.integer else None

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        value: float
        if from_form and isinstance(raw, str):
            text = raw.strip().replace(" ", "")
            if not _NUMBER.fullmatch(text):
                raise Refused(NOT_A_NUMBER)
            value = float(text)
        elif isinstance(raw, int | float) and not isinstance(raw, bool):
            value = float(raw)
        else:
            raise Refused(NOT_A_NUMBER)
        if not math.isfinite(value):
            raise Refused(NOT_A_NUMBER)
        if self.integer and not value.is_integer():
            raise Refused(N_("Enter a whole number"))
        low, high = self.min, self.max
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                raise Refused(
                    N_(
                        "Enter a number between %(low)s and %(high)s",
                        low=_fmt(low),
                        high=_fmt(high),
                    )
                )
            if low is not None:
                raise Refused(N_("Enter a number of at least %(low)s", low=_fmt(low)))
            assert high is not None
            raise Refused(N_("Enter a number of at most %(high)s", high=_fmt(high)))
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value


def _fmt(number: float) -> str:
    return str(int(number)) if number.is_integer() else str(number)
