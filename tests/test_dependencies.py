"""The installed web stack is at or above every version that fixed a published
advisory we know of.  The advisory database itself cannot be reached from
these machines (pip-audit finds no package on the PyPI JSON API here), so the
floors are written down, with where they come from; pyproject.toml requires
them too, so a fresh install cannot fall below."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from packaging.version import Version

# package -> (first fixed version, advisories fixed by it)
FIXED = {
    "starlette": (
        "1.3.1",
        "CVE-2026-54283 (urlencoded form limits ignored), CVE-2026-48710 (BadHost), "
        "CVE-2026-48818, PYSEC-2026-161, CVE-2025-62727, CVE-2025-54121",
    ),
    "fastapi": ("0.109.1", "CVE-2024-24762 (form data ReDoS)"),
    "python-multipart": ("0.0.18", "CVE-2024-53981, CVE-2024-24762"),
    "jinja2": ("3.1.6", "CVE-2025-27516, CVE-2024-56326, CVE-2024-56201"),
    "h11": ("0.16.0", "CVE-2025-43859 (chunked-encoding request smuggling)"),
    "uvicorn": ("0.11.7", "CVE-2020-7694, CVE-2020-7695 (log and header injection)"),
    "babel": ("2.9.1", "CVE-2021-42771"),
    "pyyaml": ("5.4", "CVE-2020-14343"),
    "sqlalchemy": ("1.2.18", "CVE-2019-7164, CVE-2019-7548"),
}


@pytest.mark.parametrize("package", sorted(FIXED))
def test_no_known_advisory_applies(package: str) -> None:
    fixed, advisories = FIXED[package]
    assert Version(version(package)) >= Version(fixed), f"{package}: {advisories}"
