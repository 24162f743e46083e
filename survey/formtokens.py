"""Signed, expiring form tokens: what protects the form instead of cookies.

An embedded form lives in a cross-site frame, where browsers that block
third-party cookies would break a cookie-based CSRF scheme.  Each rendered form
carries a token signed with the server's key (itsdangerous) that names the
survey and the moment it was issued; a submission must bring it back unaltered
and in time.  No HTTP and no database here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "reader-survey.form"


class BadFormToken(Exception):
    """A token that is forged, for another survey, or too old; ``expired`` tells which."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class FormToken:
    slug: str
    submission_id: str
    issued_at: float


class FormTokens:
    def __init__(self, secret_key: str, *, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT)
        self.max_age_seconds = max_age_seconds

    def issue(self, slug: str) -> str:
        # A fresh id per rendered form: it will let a second POST of the same
        # form be recognised as a duplicate.
        return self._serializer.dumps({"s": slug, "n": secrets.token_urlsafe(12)})

    def check(self, token: str, *, slug: str) -> FormToken:
        try:
            data, issued = self._serializer.loads(
                token, max_age=self.max_age_seconds, return_timestamp=True
            )
        except SignatureExpired:
            raise BadFormToken(expired=True) from None
        except BadSignature:
            raise BadFormToken(expired=False) from None
        if (
            not isinstance(data, dict)
            or data.get("s") != slug
            or not isinstance(data.get("n"), str)
        ):
            raise BadFormToken(expired=False)
        return FormToken(slug=slug, submission_id=data["n"], issued_at=issued.timestamp())
