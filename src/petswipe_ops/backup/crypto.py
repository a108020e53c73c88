"""Encryption at rest: Fernet (AES-128-CBC with an HMAC-SHA256 tag) over the whole backup.

The key is a secret: it comes from an environment variable or a Prefect Secret block (the
flow layer resolves the block), or locally from a key file in the run folder; it is never
logged and never part of a message.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from petswipe_ops.errors import OpsError

SCHEME = "fernet"
TOKEN_PREFIX = b"gAAAAA"


class BackupKeyError(OpsError):
    """No usable backup key."""


def key_from_env(variable: str) -> SecretStr | None:
    value = os.environ.get(variable, "").strip()
    return SecretStr(value) if value else None


def local_key(path: Path) -> SecretStr:
    """The local sandbox's key file, made (readable by its owner only) on first use."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(Fernet.generate_key())
    try:
        key = SecretStr(path.read_text(encoding="ascii").strip())
        cipher(key)
    except (UnicodeDecodeError, BackupKeyError):
        raise BackupKeyError(
            f"{path} does not hold a valid Fernet key; restore it from where you keep it "
            "(backups made with it need it), or move it aside to make a new one."
        ) from None
    return key


def missing_key(variable: str, block: str) -> BackupKeyError:
    return BackupKeyError(
        f"no backup key: set {variable} to a Fernet key (make one with "
        "`uv run --frozen petswipe-ops backup keygen`) or store it in the Prefect Secret "
        f"block '{block}'."
    )


def cipher(key: SecretStr) -> Fernet:
    try:
        return Fernet(key.get_secret_value().encode())
    except (ValueError, TypeError):
        raise BackupKeyError(
            "the backup key is not a valid Fernet key (32 url-safe base64-encoded bytes); "
            "make one with `uv run --frozen petswipe-ops backup keygen`."
        ) from None


def encrypt(key: SecretStr, data: bytes) -> bytes:
    return cipher(key).encrypt(data)


def decrypt(key: SecretStr, token: bytes, what: str) -> bytes:
    try:
        return cipher(key).decrypt(token)
    except InvalidToken:
        raise BackupKeyError(
            f"{what} cannot be decrypted: it was changed or was written with another key; "
            "restore an intact copy (the DR vault has one) or use the key it was made with."
        ) from None


def looks_encrypted(head: bytes) -> bool:
    """A Fernet token, and none of the plain formats we write (pg_dump, SQLite)."""
    return head.startswith(TOKEN_PREFIX) and not head.startswith((b"PGDMP", b"SQLite format 3"))
