"""HTTP clients that share one TLS context per process.

httpx builds a TLS context, and loads the whole certificate store into it, for every client
it creates, and `httpx.get` creates a client per call: about 60 ms of CPU on an idle host,
several times that on a loaded one, even for plain http. The canary gate reads both
versions' metrics several times a second and health checks poll, so a single release
loaded the store hundreds of times and spent more CPU on it than on judging the candidate.
Building the context once keeps certificate verification for https (PagerDuty, Slack,
Prometheus behind TLS) and costs nothing per call.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's verifying TLS context, as httpx would build it (SSL_CERT_FILE honoured)."""
    return httpx.create_ssl_context()


def client(**settings: Any) -> httpx.Client:
    """An httpx.Client on the shared TLS context; use it as a context manager."""
    return httpx.Client(verify=tls_context(), **settings)


def get(url: str, **options: Any) -> httpx.Response:
    """`httpx.get`, on a fresh connection and the shared TLS context."""
    with client() as session:
        return session.get(url, **options)


def post(url: str, **options: Any) -> httpx.Response:
    """`httpx.post`, on a fresh connection and the shared TLS context."""
    with client() as session:
        return session.post(url, **options)
