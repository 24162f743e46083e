"""Short and long text answers: one line, or a paragraph."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field

from survey.i18n import N_, Message
from survey.questions.base import LATEST, MISSING, BaseQuestion, Refused

DEFAULT_MAX_LENGTH = 5000
# NUL cannot be stored by PostgreSQL, and lone surrogates cannot be encoded as UTF-8.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(raw: Any, max_length: int, *, from_form: bool) -> Any:
    """Text as the person typed it, MISSING when blank; refused when too long
    or holding characters that cannot be stored."""
    if not isinstance(raw, str):
        raise Refused(N_("Enter text"))
    if from_form:
        # Browsers send a textarea's line breaks as CRLF but count them as one
        # character against maxlength; store what the person saw.
        raw = raw.replace("\r\n", "\n")
    if not raw.strip():
        return MISSING
    if UNSTORABLE.search(raw):
        raise Refused(N_("Remove the invisible control characters from your answer"))
    if len(raw) > max_length:
        raise Refused(
            N_(
                "Use %(limit)s characters or fewer (you used %(used)s)",
                limit=f"{max_length:,}",
                used=f"{len(raw):,}",
            )
        )
    return raw


class _Text(BaseQuestion):
    required_message: ClassVar[Message] = N_("Enter your answer")
    summary_shape: ClassVar[str] = LATEST
    searchable: ClassVar[bool] = True

    max_length: int = Field(default=DEFAULT_MAX_LENGTH, ge=1, le=100_000)

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        return clean_text(raw, self.max_length, from_form=from_form)


class ShortTextQuestion(_Text):
    partial: ClassVar[str] = "questions/_q_short_text.html"
    prefillable: ClassVar[bool] = True
    type: Literal["short_text"]


class LongTextQuestion(_Text):
    partial: ClassVar[str] = "questions/_q_long_text.html"
    type: Literal["long_text"]
