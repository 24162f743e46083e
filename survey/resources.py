"""Where the files that ship with the product are, in a checkout and in a wheel.

The designed layout keeps ``templates/`` and ``alembic/`` at the top of the
repository; the wheel carries them inside the package as ``_templates`` and
``_alembic`` (see ``pyproject.toml``).  Every other module asks here.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"none of these folders exists: {', '.join(map(str, candidates))}")


def templates_dir() -> Path:
    return _first_existing(PACKAGE_DIR / "_templates", PACKAGE_DIR.parent / "templates")


def migrations_dir() -> Path:
    return _first_existing(PACKAGE_DIR / "_alembic", PACKAGE_DIR.parent / "alembic")


STATIC_DIR = PACKAGE_DIR / "static"
BUNDLED_SURVEYS_DIR = PACKAGE_DIR / "surveys"
