"""Two-step sign-in for staff: time-based one-time codes (TOTP, RFC 6238,
through pyotp) from an authenticator app, and single-use recovery codes.
No HTTP and no SQL here.

- A code is accepted for its 30-second step and the one before and after
  (clocks drift), and only once: the step it used is kept, and a code of that
  step or an earlier one is refused (a code seen over a shoulder or replayed
  by a proxy is worthless).
- Recovery codes are kept as SHA-256 hashes; each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno

ISSUER = "reader-survey"
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The provisioning address as a QR code, an SVG data: URI (allowed by the
    pages' img-src policy; no script, no other host)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def grouped(secret: str) -> str:
    """The key as people type it into an app: groups of four."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def check_code(secret: str, code: str, *, last_step: int | None, now: datetime) -> int | None:
    """The time step ``code`` is good for (to keep as the last one used), or None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code):
            return step
    return None


def new_recovery_codes() -> tuple[list[str], list[str]]:
    """(the codes to show once, their hashes to keep)."""
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    return codes, [_hash(code) for code in codes]


def use_recovery_code(hashes: list[str], code: str) -> list[str] | None:
    """The hashes left once ``code`` is used, or None when it is not one of them."""
    wanted = _hash(code.strip().lower())
    for kept in hashes:
        if hmac.compare_digest(kept, wanted):
            return [other for other in hashes if other != kept]
    return None


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
