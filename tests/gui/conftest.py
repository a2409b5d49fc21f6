"""Fixtures of the window tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def screenshot(tmp_path):
    """``screenshot(widget or QImage, name) -> Path``: a PNG in the test's temporary folder, or in
    ``$GAITMON_SCREENSHOTS`` when that is set (to look at them:
    ``GAITMON_SCREENSHOTS=shots python -m pytest tests/gui``)."""
    folder = Path(os.environ.get("GAITMON_SCREENSHOTS") or tmp_path)

    def save(picture, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        image = picture.grab() if hasattr(picture, "grab") else picture
        assert image.save(str(path))
        return path

    return save
