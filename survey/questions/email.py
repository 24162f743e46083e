"""An email address, checked for its form (not for whether mail arrives)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import Field

from survey.i18n import N_, Message
from survey.questions.base import LATEST, MISSING, BaseQuestion, Refused
from survey.questions.text import UNSTORABLE

EMAIL_MAX_LENGTH = 320
BAD_EMAIL = N_("Enter an email address in the correct format, like name@example.com")


class EmailQuestion(BaseQuestion):
    partial: ClassVar[str] = "questions/_q_email.html"
    required_message: ClassVar[Message] = N_("Enter an email address")
    summary_shape: ClassVar[str] = LATEST
    searchable: ClassVar[bool] = True
    holds_email: ClassVar[bool] = True

    type: Literal["email"]
    max_length: int = Field(default=EMAIL_MAX_LENGTH, ge=6, le=EMAIL_MAX_LENGTH)

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        if not isinstance(raw, str):
            raise Refused(N_("Enter an email address"))
        address = raw.strip()
        if not address:
            return MISSING
        if len(address) > self.max_length or UNSTORABLE.search(address):
            raise Refused(BAD_EMAIL)
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError:
            raise Refused(BAD_EMAIL) from None
        return address
