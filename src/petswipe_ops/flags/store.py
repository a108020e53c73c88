"""The flag store seam and its local implementation: numbered versions of the document.

Like AppConfig's hosted configuration versions, every change is a new immutable version;
`current.json` is a copy of the newest, replaced atomically, which the service re-reads.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from petswipe_ops.errors import OpsError
from petswipe_ops.flags.model import FeatureFlags, catalogue
from petswipe_ops.jsonfile import write_text_atomically


class FlagVersion(BaseModel):
    number: int
    document: FeatureFlags
    description: str = ""
    created_at: datetime | None = None


class FlagStoreConflict(OpsError):
    """Someone else stored a version in between; read again and retry."""


class FlagStore(Protocol):
    def latest(self) -> FlagVersion: ...

    def put(self, document: FeatureFlags, description: str, expected: int) -> FlagVersion: ...


class LocalFlagStore:
    """`<run dir>/flags/versions/<n>.json` plus `index.jsonl` and `current.json`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.versions = folder / "versions"
        self.index = folder / "index.jsonl"
        self.current = folder / "current.json"

    def _numbers(self) -> list[int]:
        if not self.versions.is_dir():
            return []
        return sorted(int(p.stem) for p in self.versions.glob("*.json") if p.stem.isdigit())

    def _read(self, number: int) -> FlagVersion:
        path = self.versions / f"{number}.json"
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError):
            raise OpsError(f"flag version {path} is unreadable; restore or remove it.") from None
        meta = {}
        if self.index.is_file():
            for line in self.index.read_text().splitlines():
                entry = json.loads(line)
                if entry["number"] == number:
                    meta = entry
        return FlagVersion(
            number=number,
            document=FeatureFlags.parse(raw, str(path)),
            description=meta.get("description", ""),
            created_at=meta.get("created_at"),
        )

    def history(self) -> list[FlagVersion]:
        return [self._read(n) for n in self._numbers()]

    def latest(self) -> FlagVersion:
        numbers = self._numbers()
        if not numbers:
            return FlagVersion(number=0, document=catalogue(), description="no version stored yet")
        return self._read(numbers[-1])

    def put(self, document: FeatureFlags, description: str, expected: int) -> FlagVersion:
        """Store version `expected + 1`; refused if the newest is no longer `expected`."""
        self.versions.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / "store.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            numbers = self._numbers()
            newest = numbers[-1] if numbers else 0
            if newest != expected:
                raise FlagStoreConflict(
                    f"flag version {newest} was stored while this change was based on "
                    f"{expected}; run the command again."
                )
            number = newest + 1
            text = json.dumps(document.dump(), indent=2)
            write_text_atomically(self.versions / f"{number}.json", text)
            now = datetime.now(UTC)
            with self.index.open("a") as index:
                entry = {"number": number, "description": description, "created_at": now}
                index.write(json.dumps(entry, default=str) + "\n")
            write_text_atomically(self.current, text)
        finally:
            os.close(fd)
        return FlagVersion(
            number=number, document=document, description=description, created_at=now
        )
