"""Tests that read the rules' messages in English, whatever language an earlier test left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from summit.core.i18n import language


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages in English for the test (import it into a test module to use it there)."""
    with language("en"):
        yield
