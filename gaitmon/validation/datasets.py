"""Folders of labelled recordings: ``<name>_imu.csv`` + ``<name>_events.csv`` pairs, and the optional
``recordings.csv`` that says who ran, how fast and with which foot strike (layout of
``shared/datasets/*``)."""

from __future__ import annotations

import csv
from pathlib import Path

from gaitmon.errors import InputError


def dataset_pairs(folder: Path) -> list[tuple[str, Path, Path]]:
    """``(name, imu csv, events csv)`` for every ``<name>_imu.csv`` with a ``<name>_events.csv``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, None, "not a folder")
    pairs = []
    for imu in sorted(folder.glob("*_imu.csv")):
        events = imu.with_name(imu.name[: -len("_imu.csv")] + "_events.csv")
        if events.exists():
            pairs.append((imu.name[: -len("_imu.csv")], imu, events))
    if not pairs:
        raise InputError(folder, None, "no <name>_imu.csv files with a matching <name>_events.csv")
    return pairs


def read_recordings_table(folder: Path) -> dict[str, dict[str, str]]:
    """``recordings.csv`` of a dataset folder as ``recording -> row`` (empty when absent)."""
    path = Path(folder) / "recordings.csv"
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {row["recording"]: row for row in csv.DictReader(f) if row.get("recording")}


def short_strike(text: str) -> str:
    """``"forefoot (RBDS metadata)"`` → ``"forefoot"``."""
    return text.split("(")[0].strip()


def short_speed(text: str) -> str:
    try:
        return f"{float(text):g}"
    except (TypeError, ValueError):
        return ""
