"""Staff accounts: the rules for a new account (shared by ``survey user
create`` and the Users page), and passwords as Argon2 hashes through pwdlib,
nothing hand-made.

A sign-in for an email nobody has still verifies against a dummy hash, so
that the time a failed sign-in takes does not tell which accounts exist.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from survey.i18n import N_

if TYPE_CHECKING:
    from pwdlib import PasswordHash

ROLES = ("viewer", "admin")
MIN_LENGTH = 12
MAX_LENGTH = 1024  # Argon2 takes any length; this bounds the work one request asks for


@cache
def _hasher() -> PasswordHash:
    # Imported on first use: the commands that never touch a password (export
    # above all) do not pay for loading Argon2.
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher().verify(password[:MAX_LENGTH], _dummy_hash())
        return False
    return _hasher().verify(password[:MAX_LENGTH], password_hash)


# zxcvbn's scores run 0-4; under 3 it finds the password in its lists of
# common and breached passwords, names and words, or guessable from patterns
# (keyboard rows, dates, l33t spellings) within about 10^8 guesses.
MIN_STRENGTH = 3
# zxcvbn's matching grows faster than linearly with length; a long phrase is
# judged well enough by its first 100 characters.
STRENGTH_CHECKED = 100


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why a new password is refused, or None: too short or long, or common
    or guessable (zxcvbn: offline lists of common and breached passwords,
    words and names, and the account's own address)."""
    if len(password) < MIN_LENGTH:
        return N_("Use a password of at least %(count)s characters", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return N_("Use a password of at most %(count)s characters", count=MAX_LENGTH)
    from zxcvbn import zxcvbn

    own = [email, *(part for part in email.replace("@", ".").split(".") if part)]
    if zxcvbn(password[:STRENGTH_CHECKED], user_inputs=own)["score"] < MIN_STRENGTH:
        return N_(
            "This password is common or easy to guess. Use a few unrelated words, "
            "such as a short sentence only you would write"
        )
    return None


def check_new_account(email: str, role: str, password: str) -> tuple[str, dict[str, str]]:
    """The normalised (lower-case) email, and what is wrong, by field."""
    from email_validator import EmailNotValidError, validate_email

    errors: dict[str, str] = {}
    address = email.strip().lower()
    try:
        address = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors["email"] = N_("Enter an email address like name@example.org")
    if role not in ROLES:
        errors["role"] = N_("Choose viewer or admin")
    problem = password_problem(password, email=address)
    if problem:
        errors["password"] = problem
    return address, errors


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not anybody's password")
