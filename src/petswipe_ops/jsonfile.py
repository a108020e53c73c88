"""JSON files we keep (release records, backup manifests, reports) read back into models.

A file that a crash, a full disk or a hand edit has broken is one sentence naming the file
and the first problem in it, never a traceback: the user can move it aside and go on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from petswipe_ops.errors import OpsError

M = TypeVar("M", bound=BaseModel)


class CorruptFile(OpsError):
    """A stored JSON file is not what it should be; it names the file and the problem."""

    def __init__(self, path: Path, what: str, problem: str) -> None:
        self.path = path
        super().__init__(f"{path} is not a valid {what} ({problem}); move it aside or delete it.")


def describe(model: type[BaseModel]) -> str:
    """`BackupManifest` -> "backup manifest"."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", model.__name__).lower()


def load_model(path: Path, model: type[M], what: str | None = None) -> M:
    """Read `path` as a `model`; anything wrong with it is a `CorruptFile`."""
    kind = what or describe(model)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CorruptFile(path, kind, "it is not UTF-8 text") from None
    except OSError as exc:
        raise OpsError(f"{path} cannot be read ({exc.strerror}); check its permissions.") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptFile(path, kind, f"line {exc.lineno}: {exc.msg}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "top level"
        reason = first["msg"].removeprefix("Value error, ").rstrip(".")
        raise CorruptFile(path, kind, f"field '{field}': {reason}") from None


def write_text_atomically(path: Path, text: str) -> None:
    """Write through a temporary file renamed over `path`, so a reader (or a crash) never
    sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_atomically(path: Path, model: BaseModel) -> None:
    """`model` as indented JSON, written atomically."""
    write_text_atomically(path, model.model_dump_json(indent=2))
