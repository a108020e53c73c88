"""HS256 JSON Web Tokens whose header names the signing key's version (`kid`).

A verifier that knows every staged version can then check a token signed with
AWSPREVIOUS during the overlap after a rotation, and refuse one whose key is gone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from pydantic import SecretStr


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: dict[str, Any], key: SecretStr, kid: str, ttl_seconds: int = 3600) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    body = {**claims, "exp": int(time.time()) + ttl_seconds}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
    mac = hmac.new(key.get_secret_value().encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{_b64(mac.digest())}"
