from datetime import datetime

import pytest
from pydantic import BaseModel

from petswipe_ops.jsonfile import CorruptFile, load_model


class ReleaseRecord(BaseModel):
    release_id: str
    started_at: datetime


def test_a_valid_file_is_its_model(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"release_id": "r-1", "started_at": "2026-03-01T02:00:00Z"}')
    assert load_model(path, ReleaseRecord).release_id == "r-1"


def test_a_truncated_file_is_one_sentence_with_its_line(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{\n  "release_id": "r-1",\n  "started_at": "2026-03-01T02:0')
    with pytest.raises(CorruptFile) as err:
        load_model(path, ReleaseRecord)
    assert str(err.value) == (
        f"{path} is not a valid release record (line 3: Unterminated string starting at); "
        "move it aside or delete it."
    )


def test_a_wrong_field_names_the_field(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"release_id": "r-1", "started_at": "yesterday"}')
    with pytest.raises(
        CorruptFile,
        match=r"r\.json is not a valid release record \(field "
        r"'started_at': Input should be a valid datetime",
    ):
        load_model(path, ReleaseRecord)


def test_binary_garbage_is_one_sentence(tmp_path):
    path = tmp_path / "r.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CorruptFile, match="it is not UTF-8 text"):
        load_model(path, ReleaseRecord, what="release record")
