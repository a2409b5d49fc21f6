"""A session folder on disk: ``session.json`` (metadata) + ``journal.gmj`` (raw notifications).

::

    SESSION/
      session.json    SessionMeta; replaced atomically, so it is always whole
      journal.gmj     append-only journal (gaitmon.session.journal)
      events.csv …    analysis outputs, written at the end of a live run, a replay or an analysis

Opening a folder checks it is a gaitmon session and says plainly what is wrong when it is not.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from gaitmon.errors import InputError
from gaitmon.session.meta import SessionMeta

META_FILE = "session.json"
JOURNAL_FILE = "journal.gmj"


def is_session_folder(path: Path) -> bool:
    return Path(path).is_dir() and (Path(path) / META_FILE).exists()


def write_meta(folder: Path, meta: SessionMeta) -> None:
    """Write ``session.json`` atomically (a temporary file renamed over the old one).

    Raises OSError when the folder cannot be written.
    """
    path = Path(folder) / META_FILE
    tmp = path.with_name(META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta.to_json(), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_meta(folder: Path) -> SessionMeta:
    """The metadata of a session folder; InputError naming the file for anything foreign or broken."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(folder, None, "no such session folder")
    if not folder.is_dir():
        raise InputError(folder, None, "not a session folder (it is a file)")
    path = folder / META_FILE
    if not path.exists():
        raise InputError(folder, None, f"not a gaitmon session folder: no {META_FILE}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, None, f"cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(path, None, "not a gaitmon session file (JSON nested too deeply)") from None
    if not isinstance(data, dict):
        raise InputError(path, None, "not a gaitmon session file (expected a JSON object)")
    try:
        return SessionMeta.from_json(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(path, None, str(exc)) from None


def default_session_dir(base: Path, meta: SessionMeta) -> Path:
    """``base/<athlete>_<YYYYmmddTHHMMSS>``: a new folder name for a recording."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", meta.athlete.strip()).strip("-") or "session"
    stamp = meta.started.strftime("%Y%m%dT%H%M%S")
    candidate = Path(base) / f"{name}_{stamp}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = Path(base) / f"{name}_{stamp}_{n}"
    return candidate
