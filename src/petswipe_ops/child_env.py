"""The environment a child process gets: an allow-list, never the whole of ours.

The ops process holds the backup key, webhook URLs, API keys and cloud credentials; a
child (the candidate, k6, terraform, pg_dump) gets only what it needs to run plus what
its caller names, so a secret cannot leak through a child's logs, core dumps or `/proc`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from pydantic import SecretStr

BASE = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TERM",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "PYTHONPATH",
    "VIRTUAL_ENV",
)
"""Variables every child needs to find its binaries, locale, temp space and CA bundle."""

API_KEY_ENV = "PETSWIPE_API_KEY"
"""Where the API key users send (`X-API-Key`) comes from: the service checks it, and the
canary traffic sends it, so a candidate that rejects real users' requests is caught."""


def child_env(
    extra: Mapping[str, str] | None = None, *, prefixes: Iterable[str] = ()
) -> dict[str, str]:
    """The base allow-list, our variables starting with one of `prefixes`, then `extra`."""
    wanted = tuple(prefixes)
    passed = {
        key: value
        for key, value in os.environ.items()
        if key in BASE or (wanted and key.startswith(wanted))
    }
    return {**passed, **(extra or {})}


def api_key() -> SecretStr | None:
    """The service's API key from its secret source, or None when the service has none."""
    value = os.environ.get(API_KEY_ENV)
    return SecretStr(value) if value else None
