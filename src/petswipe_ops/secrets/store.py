"""The secret store seam and its local implementation: one owner-only JSON file.

Both stores keep Secrets Manager's staging labels: a version labelled AWSPENDING while
it is rolled out, AWSCURRENT for the one in force, AWSPREVIOUS for the one before, so a
rotation interrupted at any step can resume from what the store says.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr

from petswipe_ops.errors import OpsError
from petswipe_ops.secrets.model import CURRENT, PENDING, PREVIOUS


class SecretStoreError(OpsError):
    """The secret store could not be read or changed."""


class SecretStore(Protocol):
    def version_id(self, name: str, stage: str) -> str | None: ...

    def value(self, name: str, version_id: str) -> SecretStr | None: ...

    def put_pending(self, name: str, version_id: str, value: SecretStr) -> None: ...

    def promote(self, name: str, version_id: str) -> None: ...

    def stages(self, name: str) -> dict[str, list[str]]: ...


def staged_value(store: SecretStore, name: str, stage: str) -> SecretStr | None:
    vid = store.version_id(name, stage)
    return None if vid is None else store.value(name, vid)


class LocalSecretStore:
    """Secrets of one environment in `<run dir>/secrets/store.json`, mode 0600.

    Writes take an exclusive lock and replace the file atomically, so a reader (the
    reference service re-reading it) never sees half a file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_suffix(".lock")

    def _read(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"secrets": {}}
        except (OSError, ValueError) as exc:
            raise SecretStoreError(
                f"the local secret store {self.path} is unreadable ({type(exc).__name__}); "
                "restore it from a backup or remove it to start afresh."
            ) from None

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = self._read()
            yield data
            self._write(data)
        finally:
            os.close(fd)

    def _versions(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        return data["secrets"].get(name, {}).get("versions", {})

    def version_id(self, name: str, stage: str) -> str | None:
        for vid, entry in self._versions(self._read(), name).items():
            if stage in entry["stages"]:
                return vid
        return None

    def value(self, name: str, version_id: str) -> SecretStr | None:
        entry = self._versions(self._read(), name).get(version_id)
        return None if entry is None else SecretStr(entry["value"])

    def stages(self, name: str) -> dict[str, list[str]]:
        return {vid: list(e["stages"]) for vid, e in self._versions(self._read(), name).items()}

    def put_pending(self, name: str, version_id: str, value: SecretStr) -> None:
        """Label a new version AWSPENDING (a replayed call with the same id changes nothing)."""
        with self._locked() as data:
            versions = data["secrets"].setdefault(name, {"versions": {}})["versions"]
            if version_id in versions:
                return
            for entry in versions.values():
                entry["stages"] = [s for s in entry["stages"] if s != PENDING]
            versions[version_id] = {"value": value.get_secret_value(), "stages": [PENDING]}
            self._drop_unlabelled(versions)

    def promote(self, name: str, version_id: str) -> None:
        """AWSPENDING -> AWSCURRENT, the old AWSCURRENT -> AWSPREVIOUS, in one atomic write."""
        with self._locked() as data:
            versions = self._versions(data, name)
            if version_id not in versions:
                raise SecretStoreError(
                    f"secret {name} has no version {version_id} to promote; "
                    "run the rotation again to create a new one."
                )
            if CURRENT in versions[version_id]["stages"]:
                return
            for vid, entry in versions.items():
                stages = [s for s in entry["stages"] if s not in (PREVIOUS, PENDING)]
                if CURRENT in stages and vid != version_id:
                    stages = [PREVIOUS]
                entry["stages"] = stages
            versions[version_id]["stages"] = [CURRENT]
            self._drop_unlabelled(versions)

    def set_current(self, name: str, version_id: str, value: SecretStr) -> None:
        """Plant a first AWSCURRENT value (bootstrap and tests), as create_secret does."""
        self.put_pending(name, version_id, value)
        self.promote(name, version_id)

    @staticmethod
    def _drop_unlabelled(versions: dict[str, Any]) -> None:
        for vid in [v for v, e in versions.items() if not e["stages"]]:
            del versions[vid]
