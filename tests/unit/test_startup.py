"""Start-up stays light: ``gaitmon --help`` loads neither scipy.stats, the event core, bleak nor Qt.

Each case runs in a fresh interpreter (modules already imported by the test session would hide an
import) and checks ``sys.modules`` afterwards: what is imported, not how long it takes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Loaded only by the commands that use them.
HEAVY = ("scipy.stats", "scipy.signal", "bleak", "PySide6", "pyqtgraph", "gaitmon.dashboard", "gaitmon.core",
         "gaitmon.analysis", "gaitmon.engine", "gaitmon.stream")

QUIET_MAIN = """
import contextlib, io
import gaitmon.cli
with contextlib.redirect_stdout(io.StringIO()):
    try:
        gaitmon.cli.main({argv!r})
    except SystemExit:
        pass
"""


def modules_after(code: str) -> list[str]:
    """The modules a fresh interpreter (this checkout first on the path) holds after ``code``."""
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.mark.parametrize("code", [
    "import gaitmon",
    "import gaitmon.cli",
    "import gaitmon.cli; gaitmon.cli.build_parser().format_help()",
    QUIET_MAIN.format(argv=["--help"]),
    QUIET_MAIN.format(argv=["analyze", "--help"]),
    QUIET_MAIN.format(argv=[]),
], ids=["import gaitmon", "import gaitmon.cli", "build_parser", "--help", "analyze --help", "no command"])
def test_the_command_line_starts_without_heavy_imports(code):
    modules = modules_after(code)
    assert "gaitmon.cli" in modules or code == "import gaitmon"
    assert heavy(modules) == []


def test_the_probe_sees_a_heavy_import():
    """The check itself works: the version text names the event core, so ``--version`` loads it."""
    assert "gaitmon.core" in heavy(modules_after(QUIET_MAIN.format(argv=["--version"])))


def test_the_analysis_path_imports_no_scipy_signal_or_stats():
    """``gaitmon analyze`` / ``replay`` load what they need, not the 1 s of scipy.signal and scipy.stats."""
    modules = modules_after("from gaitmon.engine.analyze import write_session_outputs\n"
                            "from gaitmon.engine.load import load\nimport gaitmon.core, gaitmon.dashboard")
    assert "gaitmon.core" in modules
    assert [m for m in modules if m.split(".")[:2] in (["scipy", "signal"], ["scipy", "stats"])] == []
