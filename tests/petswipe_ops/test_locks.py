import re

import pytest

from petswipe_ops.locks import ReleaseInProgress, environment_lock


def test_a_second_release_to_the_same_environment_is_refused_naming_the_first(tmp_path):
    lock = tmp_path / "local" / "release.lock"
    busy = re.escape("environment 'local' is busy with release 1.2.0")
    with (
        environment_lock(lock, "local", "1.2.0"),
        pytest.raises(ReleaseInProgress, match=busy),
        environment_lock(lock, "local", "1.3.0"),
    ):
        pass
    with environment_lock(lock, "local", "1.3.0"):
        assert lock.read_text() == "1.3.0"


def test_other_environments_are_independent(tmp_path):
    with (
        environment_lock(tmp_path / "local" / "release.lock", "local", "1.2.0"),
        environment_lock(tmp_path / "qa" / "release.lock", "qa", "1.2.0"),
    ):
        assert (tmp_path / "qa" / "release.lock").read_text() == "1.2.0"
