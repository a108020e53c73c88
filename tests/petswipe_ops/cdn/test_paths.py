"""Invalidation paths: CloudFront's rules, and Varnish bans that match exactly those URLs."""

from __future__ import annotations

import re

import pytest

from petswipe_ops.cdn.paths import ban_regex, check_paths
from petswipe_ops.errors import ConfigError


@pytest.mark.parametrize(
    ("path", "matches", "misses"),
    [
        ("/static/*", ["/static/app.css", "/static/a/b.js?v=2"], ["/images/x.svg", "/stat"]),
        ("/static/app.css", ["/static/app.css", "/static/app.css?v=3"], ["/static/app.cssx"]),
        ("/*", ["/", "/api/pets"], []),
        ("/a.b", ["/a.b"], ["/aXb"]),
    ],
)
def test_a_ban_matches_what_cloudfront_would_invalidate(path, matches, misses):
    regex = re.compile(ban_regex(path))
    assert all(regex.search(url) for url in matches)
    assert not any(regex.search(url) for url in misses)


@pytest.mark.parametrize(
    ("paths", "sentence"),
    [
        (["static/*"], "must start with '/'"),
        (["/a b"], "has a space"),
        (['/a"b'], "has a space, quote"),
        (["/*/x"], "may have a '*' only as its last character"),
        ([], "no paths to invalidate"),
    ],
)
def test_bad_paths_are_one_sentence(paths, sentence):
    with pytest.raises(ConfigError, match=re.escape(sentence)):
        check_paths(paths)


def test_duplicates_go_order_stays():
    assert check_paths(["/b/*", "/a", "/b/*"]) == ["/b/*", "/a"]
