"""Signed, expiring form tokens: what protects the form instead of cookies.

An embedded form lives in a cross-site frame, where browsers that block
third-party cookies would break a cookie-based CSRF scheme.  Each rendered form
carries a token signed with the server's key (itsdangerous) that names the
survey, the version of its questions the page showed, and the moment it was
issued; a submission must bring it back unaltered
and in time.  No HTTP and no database here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

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
    # The survey version the form showed; None in tokens issued before versions
    # were signed (they are checked against the current version).
    version: int | None = None


class FormTokens:
    def __init__(self, secret_key: str, *, max_age_seconds: int) -> None:
        # A plain timestamped signature over "slug:id": every form page signs
        # one, so it is kept cheaper than a serialized (JSON, zlib) payload.
        self._signer = TimestampSigner(secret_key, salt=SALT)
        self.max_age_seconds = max_age_seconds

    def issue(self, slug: str, version: int | None = None) -> str:
        """A token for one rendered form of ``slug`` at ``version`` (None: whatever
        version is current when it comes back).  A fresh id per form lets a
        second POST of the same form be recognised as a duplicate."""
        value = f"{slug}:{secrets.token_urlsafe(12)}"
        if version is not None:
            value += f":{version}"
        return self._signer.sign(value).decode()

    def check(self, token: str, *, slug: str) -> FormToken:
        try:
            value, issued = self._signer.unsign(
                token, max_age=self.max_age_seconds, return_timestamp=True
            )
        except SignatureExpired:
            raise BadFormToken(expired=True) from None
        except BadSignature:
            raise BadFormToken(expired=False) from None
        token_slug, _, rest = value.decode().partition(":")
        submission_id, _, version = rest.partition(":")
        if token_slug != slug or not submission_id or not (version.isdigit() or not version):
            raise BadFormToken(expired=False)
        return FormToken(
            slug=slug,
            submission_id=submission_id,
            issued_at=issued.timestamp(),
            version=int(version) if version else None,
        )
