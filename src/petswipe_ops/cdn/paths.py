"""Invalidation paths, checked once for both caches: CloudFront's rules, which Varnish bans
then follow exactly (a trailing `*` is a prefix, anything else is one path)."""

from __future__ import annotations

import re

from petswipe_ops.errors import ConfigError

MAX_PATHS = 3000
MAX_LENGTH = 4096
UNSAFE = re.compile(r"[\s\x00-\x1f\x7f\"'\\]")


def check_paths(paths: list[str]) -> list[str]:
    """The paths, deduplicated in order; a bad one raises one sentence naming it."""
    if not paths:
        raise ConfigError("no paths to invalidate; pass e.g. PATHS='/static/* /images/*'.")
    if len(paths) > MAX_PATHS:
        raise ConfigError(f"{len(paths)} paths is more than {MAX_PATHS}; use a wildcard.")
    for path in paths:
        if not path.startswith("/"):
            raise ConfigError(f"path '{path}' must start with '/', e.g. /static/*.")
        if len(path) > MAX_LENGTH or UNSAFE.search(path):
            raise ConfigError(
                f"path {path!r} has a space, quote, backslash or control character, or is "
                f"longer than {MAX_LENGTH}; URL-encode it."
            )
        if "*" in path[:-1]:
            raise ConfigError(f"path '{path}' may have a '*' only as its last character.")
    return list(dict.fromkeys(paths))


def ban_regex(path: str) -> str:
    """A Varnish `req.url ~` regex matching what CloudFront's path would invalidate."""
    if path.endswith("*"):
        return "^" + re.escape(path[:-1])
    return "^" + re.escape(path) + r"(\?.*)?$"
