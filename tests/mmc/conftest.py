"""Fixtures of the domain tests: fresh copies of Labelbox's sample documents (tests mutate them)."""

from __future__ import annotations

from typing import Any

import pytest

from .samples import load_sample


@pytest.fixture
def restaurant_row_data() -> dict[str, Any]:
    """The multi-turn "restaurant" document of Labelbox's import page (two responses share a follow-up)."""
    return load_sample("restaurant_row_data.json")


@pytest.fixture
def car_image_row_data() -> dict[str, Any]:
    """The row_data of Labelbox's export sample: a text + fileData prompt, actors with modelConfigId only."""
    return load_sample("car_image_row_data.json")
