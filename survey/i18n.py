"""The interface in English, Spanish, French and Arabic.

Interface text goes through gettext.  The catalogues are ``.po`` files in
``survey/locale/<lang>/LC_MESSAGES/messages.po`` (``pybabel extract`` finds
every string: ``_()`` in templates, ``N_()`` in Python).  No ``.mo`` file is
kept in the repository: each process compiles the ``.po`` files with Babel
when it first needs them.

Messages made where no language is known yet (the answer checks, which know
nothing of HTTP) are ``Message`` strings: English text that remembers its
msgid and values, so that a page can show it in the reader's language while
the JSON API keeps the English.
"""

from __future__ import annotations

import io
from functools import cache, lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any, Literal, get_args

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

# The languages the interface is translated into (English is the source); a
# survey may carry its texts in any of them (``label: {en: ..., ar: ...}``).
Language = Literal["en", "es", "fr", "ar"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT = "en"
RIGHT_TO_LEFT = frozenset({"ar"})
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
NAMES = {"en": "English", "es": "Español", "fr": "Français", "ar": "العربية"}


class Message(str):
    """English text with its msgid and values kept for translation."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Message:
        text = super().__new__(cls, msgid % values if values else msgid)
        text.msgid = msgid
        text.values = values
        return text

    def in_language(self, lang: str) -> str:
        translated = translations(lang).gettext(self.msgid)
        return translated % self.values if self.values else translated


def N_(msgid: str, **values: Any) -> Message:
    """Mark a message for extraction; translated where it is shown."""
    return Message(msgid, **values)


@cache
def translations(lang: str) -> NullTranslations:
    if lang == DEFAULT or lang not in LANGUAGES:
        return NullTranslations()
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def translate(text: Any, lang: str) -> str:
    """A Message in ``lang``; any other text as it is (answers, survey texts)."""
    if isinstance(text, Message):
        return text.in_language(lang)
    return str(text)


def direction(lang: str) -> str:
    return "rtl" if lang in RIGHT_TO_LEFT else "ltr"


def parse_accept_language(header: str | None) -> list[str]:
    """Language codes from an Accept-Language header, most wanted first."""
    if not header:
        return []
    # Browsers send a handful of distinct headers: the form page (the hot
    # path) parses each once.  Long, odd headers are parsed every time.
    if len(header) <= 200:
        return list(_parsed_accept_language(header))
    return list(_parse_accept_language(header))


@lru_cache(maxsize=256)
def _parsed_accept_language(header: str) -> tuple[str, ...]:
    return _parse_accept_language(header)


def _parse_accept_language(header: str) -> tuple[str, ...]:
    weighted = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.split("-")[0].lower()))
    return tuple(tag for _, _, tag in sorted(weighted))


def choose(asked: str | None, accept_language: str | None, available: list[str]) -> str:
    """?lang= wins, then the browser's languages, then the first available."""
    if asked in available:
        return asked
    for lang in parse_accept_language(accept_language):
        if lang in available:
            return lang
    return available[0]
