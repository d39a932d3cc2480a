"""Semantic versions of models: allocation order and the sort key the registry relies on."""

from __future__ import annotations

import pytest

from lead_ai.domain.versions import FIRST_VERSION, format_version, next_version, parse_version
from lead_ai.storage.registry_table import (
    version_sort_key,
)


def test_first_version_is_1_0_0() -> None:
    assert format_version(next_version(None, spec_changed=False)) == "1.0.0" == format_version(FIRST_VERSION)


def test_retraining_bumps_minor_and_a_new_feature_spec_bumps_major() -> None:
    assert next_version((1, 4, 0), spec_changed=False) == (1, 5, 0)
    assert next_version((1, 4, 0), spec_changed=True) == (2, 0, 0)


def test_sort_keys_order_like_versions_not_like_strings() -> None:
    # Given versions whose string order differs from their numeric order
    versions = [(1, 10, 0), (1, 9, 0), (2, 0, 0), (1, 0, 0), (10, 0, 0)]
    # When sorted by the registry's sort key
    ordered = sorted(versions, key=version_sort_key)
    # Then they are in semantic order
    assert ordered == sorted(versions)


@pytest.mark.parametrize("text", ["1.0", "1.0.0.0", "a.b.c", "", "1.-1.0", "1234567.0.0"])
def test_parse_version_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        parse_version(text)


def test_parse_and_format_round_trip() -> None:
    assert format_version(parse_version("3.12.7")) == "3.12.7"
