"""The command line's diagnostics (the logging module, ``-v``/``-q`` on every command) and its
progress bars (on a terminal only, and not with ``-q``)."""

from __future__ import annotations

import io
import logging

import pytest

from gaitmon import cli
from gaitmon.errors import log, warn


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    before = (list(root.handlers), root.level, log.level)
    yield
    root.handlers[:], (root.level, log.level) = before[0], before[1:]


def _lines(capsys) -> list[str]:
    return capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("verbosity, shown", [
    (-2, ["gaitmon: error: e"]),
    (-1, ["gaitmon: w", "gaitmon: error: e"]),
    (0, ["gaitmon: note: i", "gaitmon: w", "gaitmon: error: e"]),
    (1, ["gaitmon: debug: d", "gaitmon: note: i", "gaitmon: w", "gaitmon: error: e"]),
])
def test_verbosity_levels(capsys, verbosity, shown):
    cli.configure_logging(verbosity)
    child = logging.getLogger("gaitmon.engine.runtime")
    child.debug("d")
    child.info("i")
    warn("w")
    log.error("e")
    assert _lines(capsys) == shown


def test_other_libraries_speak_at_vv_and_are_named(capsys):
    cli.configure_logging(1)
    logging.getLogger("bleak.backends.bluezdbus").debug("hidden below -vv")
    logging.getLogger("bleak.backends.bluezdbus").warning("a warning always shows")
    cli.configure_logging(2)
    logging.getLogger("bleak.backends.bluezdbus").debug("shown at -vv")
    assert _lines(capsys) == ["gaitmon: bleak.backends.bluezdbus: a warning always shows",
                              "gaitmon: debug: bleak.backends.bluezdbus: shown at -vv"]


def test_configuring_twice_prints_once(capsys):
    cli.configure_logging(0)
    cli.configure_logging(0)
    warn("once")
    assert _lines(capsys) == ["gaitmon: once"]


def test_every_command_takes_v_and_q_before_or_after_it():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, cli.argparse._SubParsersAction)).choices
    for name, sub in commands.items():
        options = {s for action in sub._actions for s in action.option_strings}
        assert {"-v", "--verbose", "-q", "--quiet"} <= options, name
    args = parser.parse_args(["-q", "history", "Ana", "-vv"])
    assert (args.quiet, args.verbose) == (1, 2)
    args = parser.parse_args(["-v", "history", "Ana"])
    assert (args.quiet, args.verbose) == (0, 1)  # the command's own defaults do not undo -v


def test_bad_input_is_one_error_line_even_when_quiet(tmp_path, capsys):
    missing = tmp_path / "missing.csv"
    assert cli.main(["-qq", "analyze", str(missing), "--out", str(tmp_path / "out")]) == 2
    lines = _lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(f"gaitmon: error: {missing}")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("verbosity, terminal, drawn", [(0, True, True), (0, False, False), (-1, True, False)])
def test_the_progress_bar_is_drawn_on_a_terminal_only_and_not_when_quiet(monkeypatch, verbosity, terminal, drawn):
    stream = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(cli.sys, "stderr", stream)
    cli.configure_logging(verbosity)
    with cli._ProgressBar("replaying S1") as progress:
        for k in range(5):
            progress(k / 4, 10.0 * k)
    text = stream.getvalue()
    assert ("replaying S1" in text and "100%" in text and "40 s of session" in text) == drawn, text
    assert drawn or text == ""
