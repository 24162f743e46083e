"""ISO 3166-1 alpha-2 country codes and their names, from Babel's CLDR data.

CLDR lists a few more two-letter territories than ISO 3166-1 assigns
(exceptionally reserved codes such as AC or IC, groupings such as EU or UN,
and private-use codes); those are left out, which leaves the 249 countries.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from babel import Locale

_NOT_ISO_3166_1 = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)

COUNTRY_CODES: frozenset[str] = frozenset(
    str(code)
    for code in Locale("en").territories
    if len(str(code)) == 2 and str(code).isalpha() and code not in _NOT_ISO_3166_1
)


def _sort_key(name: str) -> str:
    # Accents and case must not split the list ("Åland" sorts with the A's).
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold() or name


@cache
def country_choices(locale: str = "en") -> tuple[tuple[str, str], ...]:
    """(code, name) for every country, sorted by name in that language."""
    names = Locale.parse(locale).territories
    pairs = [(code, names.get(code, code)) for code in COUNTRY_CODES]
    return tuple(sorted(pairs, key=lambda pair: (_sort_key(pair[1]), pair[1])))


def country_name(code: str, locale: str = "en") -> str:
    return str(Locale.parse(locale).territories.get(code, code))
