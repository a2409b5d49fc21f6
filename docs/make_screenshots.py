"""Regenerate the README's and docs' dashboard screenshots from the real window on a virtual X server.

Run from the repository root (after ``python setup.py build_ext --inplace`` or an install), on a
machine with Xvfb (Debian/Ubuntu: ``apt install xvfb``)::

    python docs/make_screenshots.py                    # → docs/images/*.png at 1600 × 1000 px
    python docs/make_screenshots.py --size 1280x720 --out /tmp/shots

It starts its own ``Xvfb`` (``--display :N`` uses a running X server instead),
opens the real :class:`~gaitmon.dashboard.window.DashboardWindow` (Qt's xcb platform, not the
offscreen one) on ``gaitmon demo``'s session — two emulated DIY sensors streaming the 8-rep
``swing_plateau`` sprint session through the real BLE path, on a virtual clock so it takes seconds,
not minutes — and lets the window's own timer draw it frame after frame. At each moment below the
engine is held still while the window keeps drawing; after a second of frames the window is read
back from the X server's screen (``QScreen.grabWindow``: the pixels as displayed) into a PNG:

- ``dashboard_rep2.png``: rep 2 at top speed (≥ 10 steps a leg into it), no flag yet;
- ``dashboard.png``: the last rep at top speed, the swing-plateau flag up (the README's picture);
- ``dashboard_indoor.png``: the same moment in the indoor theme (T).

Nothing is written outside ``--out`` and a temporary folder (recordings, GAITMON_HOME).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
#: Steps a leg into a rep when a mid-rep picture is taken (the demo's picture moment: top speed).
PICTURE_STEPS = 10
#: Window frames drawn of a held moment before it is read back (30 fps: about a second).
SETTLE_FRAMES = 30


@dataclass(frozen=True)
class Moment:
    """A point of the session to picture: when ``holds(snapshot)`` first does, files ``names`` are written
    (``names[i]`` in theme ``themes[i]``)."""

    holds: Callable
    names: tuple[str, ...]
    themes: tuple[str, ...]


def _mid_rep(snap, rep: int | None) -> bool:
    """``snap`` is ≥ :data:`PICTURE_STEPS` left steps into rep ``rep`` (None: any), still running."""
    leg = snap.balance.get("left")
    return (snap.current_rep is not None and (rep is None or snap.current_rep == rep) and not snap.current_rep_over
            and leg is not None and len(leg.steps_swing.x) >= PICTURE_STEPS)


def moments(n_reps: int) -> list[Moment]:
    """The pictures, in session order."""
    return [
        Moment(lambda snap: _mid_rep(snap, 2) and not (snap.banner and snap.banner.alarm),
               ("dashboard_rep2.png",), ("outdoor",)),
        Moment(lambda snap: _mid_rep(snap, n_reps) and snap.banner is not None and snap.banner.alarm,
               ("dashboard.png", "dashboard_indoor.png"), ("outdoor", "indoor")),
    ]


class Hold:
    """The engine's ``on_tick`` hook: holds the engine thread still (session time stops) at each moment
    until the pictures are taken."""

    def __init__(self, athlete: str, todo: list[Moment]):
        self.athlete, self.todo = athlete, list(todo)
        self.engine = None
        self.held: Moment | None = None
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, session_s: float) -> None:
        if not self.todo or not self.todo[0].holds(self.engine.snapshot(self.athlete)):
            return
        self.held = self.todo.pop(0)
        self.release.clear()
        self.reached.set()
        self.release.wait(120.0)


def start_xvfb(size: tuple[int, int]) -> tuple[subprocess.Popen, str]:
    """A private ``Xvfb`` with a screen of at least ``size`` and 3840 × 2160 px (a window that cannot
    shrink to the size asked is then still pictured whole); its own display number, from ``-displayfd``."""
    size = (max(size[0], 3840), max(size[1], 2160))
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("make_screenshots: Xvfb not found (Debian/Ubuntu: apt install xvfb), or give --display")
    read, write = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten",
                               "tcp"], pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        raise SystemExit("make_screenshots: Xvfb did not start")
    return server, f":{number}"


def take(out: Path, size: tuple[int, int], scratch: Path) -> list[Path]:
    """Run the demo session in the real window and write the pictures into ``out``."""
    from gaitmon.dashboard.demo import DEMO_REPS, demo_sources
    from gaitmon.dashboard.window import DashboardWindow, application, dispose
    from gaitmon.engine.runtime import Engine
    from pyqtgraph.Qt import QtCore

    app = application()
    if app.platformName() != "xcb":
        raise SystemExit(f"make_screenshots: Qt runs on {app.platformName()!r}, not on the X server")
    sources = demo_sources("swing_plateau", seed=1, rate_hz=None, athletes=1, realtime=False, n_reps=DEMO_REPS)
    athlete = next(iter(sources))
    hold = Hold(athlete, moments(DEMO_REPS))
    engine = Engine(sources, sessions_dir=scratch / "sessions", history_db=False, on_tick=hold,
                    on_message=lambda _: None)
    hold.engine = engine
    window = DashboardWindow(engine)
    window.move(0, 0)
    window.resize(*size)
    written: list[Path] = []

    def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 300.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline or (engine.failure is not None):
                raise SystemExit(f"make_screenshots: gave up waiting for {what} ({engine.failure or 'timeout'})")
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.002)

    try:
        window.show()
        engine.start()
        window.start()
        while hold.todo or hold.held is not None:
            wait_until(hold.reached.is_set, "the next moment")
            hold.reached.clear()
            for name, theme in zip(hold.held.names, hold.held.themes):
                if window.theme.name != theme:
                    window.toggle_theme()
                first = window.frames
                wait_until(lambda: window.frames >= first + SETTLE_FRAMES and not window.pending, "the frames")
                if (window.width(), window.height()) != size:
                    print(f"make_screenshots: the window is {window.width()} × {window.height()} px, not "
                          f"{size[0]} × {size[1]} (its minimum size); pictured as it is", file=sys.stderr)
                picture = window.screen().grabWindow(window.winId())
                path = out / name
                if not picture.save(str(path)):
                    raise SystemExit(f"make_screenshots: {path} could not be written")
                written.append(path)
                print(f"{path} ({picture.width()} × {picture.height()} px, rep {window.last.current_rep}, "
                      f"t = {window.last.session_s:.0f} s, theme {theme})")
            if window.theme.name != "outdoor":
                window.toggle_theme()
            hold.held = None
            hold.release.set()
    finally:
        hold.todo.clear()
        hold.release.set()
        window.stop()
        engine.stop()
        dispose(window)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images", help="folder of the PNGs")
    parser.add_argument("--size", default="1600x1000", help="window size WIDTHxHEIGHT in px (default 1600x1000)")
    parser.add_argument("--display", help="use this running X server (e.g. :0) instead of a private Xvfb")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    server = None
    if args.display:
        display = args.display
    else:
        server, display = start_xvfb(size)
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ.pop("WAYLAND_DISPLAY", None)
    try:
        with tempfile.TemporaryDirectory(prefix="gaitmon-screenshots-") as scratch:
            os.environ["GAITMON_HOME"] = str(Path(scratch) / "home")  # nothing goes to the user's data folder
            take(args.out, size, Path(scratch))
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
