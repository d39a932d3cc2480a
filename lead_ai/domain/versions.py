"""Model versions: semantic MAJOR.MINOR.PATCH, the first is 1.0.0; one parser for the API and the registry."""

from __future__ import annotations

import re

Version = tuple[int, int, int]

FIRST_VERSION: Version = (1, 0, 0)
# No leading zeros (semver): 01.0.0 would name 1.0.0 by another spelling.
VERSION_PATTERN = re.compile(r"(?:0|[1-9][0-9]{0,5})\.(?:0|[1-9][0-9]{0,5})\.(?:0|[1-9][0-9]{0,5})")


def parse_version(text: str) -> Version:
    if not isinstance(text, str) or not VERSION_PATTERN.fullmatch(text):
        raise ValueError(f"'{text}' is not a semantic version MAJOR.MINOR.PATCH, e.g. 1.2.0")
    major, minor, patch = (int(p) for p in text.split("."))
    return major, minor, patch


def format_version(version: Version) -> str:
    return "{}.{}.{}".format(*version)


def next_version(latest: Version | None, *, spec_changed: bool) -> Version:
    """Retraining on newer data is a minor bump; a change of the model's inputs is a major one."""
    if latest is None:
        return FIRST_VERSION
    if spec_changed:
        return (latest[0] + 1, 0, 0)
    return (latest[0], latest[1] + 1, 0)
