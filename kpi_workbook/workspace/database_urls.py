"""Database URLs as people write them: one spelling for each library that connects, and never a password shown.

Sources (`url:` in sources.yaml) connect through ibis, the actuals store (KPI_WORKBOOK_ACTUALS_URL) through
SQLAlchemy; both take every spelling of a PostgreSQL URL (``postgres://``, ``postgresql://``,
``postgresql+psycopg://``, ``postgresql+psycopg2://``) and connect with psycopg 3, the driver of the `postgres` extra.
"""

from __future__ import annotations

__all__ = ["HIDDEN", "POSTGRES_SCHEMES", "POSTGRES_SPELLING", "missing_driver_hint", "normalize_url", "redact", "scrub"]

import re
from typing import Literal
from urllib.parse import unquote

from kpi_workbook.core.extras import EXTRAS

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql"})
#: How each library spells a PostgreSQL URL's scheme.
POSTGRES_SPELLING = {"ibis": "postgres", "sqlalchemy": "postgresql+psycopg"}
HIDDEN = "***"
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<rest>.*)$", re.DOTALL)
# user:password@ before the host; the last @ ends it, so a password holding @ or / is hidden whole.
_CREDENTIALS = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@]*):(?P<password>.*)@", re.DOTALL)
_PASSWORD_PARAMETER = re.compile(r"(?i)(?P<head>[?&]password=)(?P<password>[^&#]*)")


def normalize_url(url: str, library: Literal["ibis", "sqlalchemy"]) -> str:
    """`url` as `library` takes it: a PostgreSQL URL in any spelling becomes ``postgres://`` for ibis and
    ``postgresql+psycopg://`` for SQLAlchemy; any other URL is returned as it is."""
    url = url.strip()
    found = _SCHEME.match(url)
    if found is None or found["scheme"].split("+", 1)[0].lower() not in POSTGRES_SCHEMES:
        return url
    return f"{POSTGRES_SPELLING[library]}://{found['rest']}"


def redact(url: str) -> str:
    """The URL to show in a message: its password (before the host, or a `password=` parameter) as ***."""
    shown = _CREDENTIALS.sub(rf"\g<head>:{HIDDEN}@", url, count=1)
    return _PASSWORD_PARAMETER.sub(rf"\g<head>{HIDDEN}", shown)


def scrub(message: str, url: str) -> str:
    """A driver's or library's message with `url` redacted and its password, wherever it appears, hidden."""
    message = message.replace(url, redact(url))
    for secret in _passwords(url):
        message = message.replace(secret, HIDDEN)
    return message


def _passwords(url: str) -> list[str]:
    found = _CREDENTIALS.match(url)
    secrets = [found["password"]] if found else []
    secrets += [m["password"] for m in _PASSWORD_PARAMETER.finditer(url)]
    return [form for secret in secrets if secret for form in dict.fromkeys((secret, unquote(secret)))]


def missing_driver_hint(exc: ImportError) -> str:
    """How to install a database driver that could not be imported ('' when no extra of kpi-workbook has it)."""
    extra = EXTRAS.get(exc.name or "", "")
    return f"; install it with: pip install 'kpi-workbook[{extra}]'" if extra else ""
