"""BIDS motion export and import: layout against the spec, exact round trip, strict reading, formatters."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gaitmon._version import __version__
from gaitmon.errors import InputError
from gaitmon.events import GaitEvent
from gaitmon.io import _format
from gaitmon.session.bids import BIDS_VERSION, BidsDescription, export_bids, read_bids
from gaitmon.session.meta import SensorInfo, SessionMeta
from gaitmon.sources.virtual import emulated_pair
from tests.conftest import simulated

STARTED = "2026-11-21T10:15:03.250000+00:00"
SUB, SES = "ZoeOBrien", "20261121T101503"
# BIDS date-time: YYYY-MM-DDThh:mm:ss[.000000][Z|+hh:mm|-hh:mm] (common principles, "Units").
BIDS_DATETIME = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?"
)


def _meta(started_at: str = STARTED, athlete: str = "Zoë O'Brien") -> SessionMeta:
    return SessionMeta(
        athlete=athlete,
        placement="shank",
        started_at=started_at,
        source="live",
        sensors={
            "left": SensorInfo("left", identifier="Polar Sense 1", address="A0:9E:1A:00:00:01",
                               family="polar_pmd", label="Polar Verity Sense", rate_hz=500.0),
            "right": SensorInfo("right", address="0C:8C:DC:00:00:02", family="movesense",
                                label="Movesense (GSP)"),
        },
        ended_at="2026-11-21T10:16:20.000000+00:00",
        duration_s=77.0,
        notes="wet track",
    )


def _session():
    """Simulated samples with a gap on the right side, and events (one exactly on a sample, no value)."""
    sim = simulated("balanced", 0, 500.0)
    rng = np.random.default_rng(7)
    samples = {side: (t.copy(), x.copy()) for side, (t, x) in sim.samples.items()}
    t, x = samples["right"]
    start = int(rng.integers(1000, t.size - 2000))
    keep = np.ones(t.size, dtype=bool)
    keep[start : start + int(rng.integers(100, 600))] = False
    samples["right"] = (t[keep], x[keep])
    on_sample = GaitEvent(float(samples["left"][0][1234]), "left", "IC")
    return samples, [*sim.events, on_sample]


def _motion_dir(root: Path, ses: str = SES) -> Path:
    return root / f"sub-{SUB}" / f"ses-{ses}" / "motion"


def _file(root: Path, side: str, suffix: str) -> Path:
    point = {"left": "LeftShank", "right": "RightShank"}[side]
    return _motion_dir(root) / f"sub-{SUB}_ses-{SES}_task-sprint_tracksys-{point}_{suffix}"


def _tsv(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def exported_once(tmp_path_factory):
    samples, events = _session()
    meta = _meta()
    root = tmp_path_factory.mktemp("bids") / "ds"
    files = export_bids(root, meta, samples, events)
    return root, meta, samples, events, files


@pytest.fixture
def exported(exported_once, tmp_path):
    """A private copy of one export (tests may damage it): root, meta, samples, events, files."""
    root, meta, samples, events, files = exported_once
    copy = tmp_path / "ds"
    shutil.copytree(root, copy)
    return copy, meta, samples, events, [copy / p.relative_to(root) for p in files]


# --------------------------------------------------------------------------------------------------
# Layout and required fields
# --------------------------------------------------------------------------------------------------


def test_file_layout(exported):
    root, _, _, _, files = exported
    found = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert found == sorted(p.relative_to(root).as_posix() for p in files)
    stem = f"sub-{SUB}/ses-{SES}/motion/sub-{SUB}_ses-{SES}_task-sprint_tracksys-"
    expected = {"README", "dataset_description.json", "participants.tsv",
                f"sub-{SUB}/ses-{SES}/sub-{SUB}_ses-{SES}_scans.tsv"}
    suffixes = ("motion.tsv", "motion.json", "channels.tsv", "channels.json", "events.tsv", "events.json")
    for point in ("LeftShank", "RightShank"):
        expected |= {f"{stem}{point}_{s}" for s in suffixes}
    assert set(found) == expected


def test_dataset_description_and_participants(exported):
    root = exported[0]
    desc = json.loads((root / "dataset_description.json").read_text())
    assert desc["BIDSVersion"] == BIDS_VERSION and desc["Name"] and desc["DatasetType"] == "raw"
    assert desc["GeneratedBy"][0]["Name"] == "gaitmon" and desc["GeneratedBy"][0]["Version"]
    assert _tsv(root / "participants.tsv") == [["participant_id"], [f"sub-{SUB}"]]


def test_channels_tsv_follows_the_spec(exported):
    root = exported[0]
    rows = _tsv(_file(root, "left", "channels.tsv"))
    # Required columns first, in the schema's order; then the recommended/optional ones used.
    assert rows[0] == ["name", "component", "type", "tracked_point", "units", "placement", "reference_frame",
                       "sampling_frequency"]
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert [(r["type"], r["component"], r["units"]) for r in body] == [
        ("LATENCY", "n/a", "s"), ("ACCEL", "x", "m/s^2"), ("ACCEL", "y", "m/s^2"), ("ACCEL", "z", "m/s^2"),
        ("GYRO", "x", "rad/s"), ("GYRO", "y", "rad/s"), ("GYRO", "z", "rad/s")]
    assert {r["tracked_point"] for r in body} == {"LeftShank"}
    assert {r["reference_frame"] for r in body[1:]} == {"sensor"}
    frames = json.loads(_file(root, "left", "channels.json").read_text())["reference_frame"]["Levels"]
    assert set(frames) == {"sensor"} and frames["sensor"]["RotationRule"] == "right-hand"


def test_motion_tsv_has_no_header_and_one_column_per_channel(exported):
    root, _, samples, _, _ = exported
    for side in ("left", "right"):
        lines = _file(root, side, "motion.tsv").read_text().splitlines()
        assert len(lines) == samples[side][0].size
        first = lines[0].split("\t")
        assert len(first) == len(_tsv(_file(root, side, "channels.tsv"))) - 1
        assert [float(v) for v in first][0] == 0.0  # no header: LATENCY of the first sample
        assert re.fullmatch(r"\d+\.\d{9}", lines[-1].split("\t")[0])


def test_motion_sidecar_fields(exported):
    root, meta, samples, _, _ = exported
    for side, rate in (("left", 500.0), ("right", 500.0)):  # right: estimated from the samples
        sidecar = json.loads(_file(root, side, "motion.json").read_text())
        assert sidecar["TaskName"] == "sprint" and sidecar["SamplingFrequency"] == rate  # REQUIRED
        types = [r[2] for r in _tsv(_file(root, side, "channels.tsv"))[1:]]
        assert sidecar["MotionChannelCount"] == len(types)
        for kind in ("ACCEL", "ANGACCEL", "GYRO", "JNTANG", "LATENCY", "MAGN", "MISC", "ORNT", "POS", "VEL"):
            assert sidecar[f"{kind}ChannelCount"] == types.count(kind)
        assert sidecar["MissingValues"] == "n/a"
        t = samples[side][0]
        assert sidecar["RecordingDuration"] == pytest.approx(t[-1] - t[0])
        assert sidecar["SamplingFrequencyEffective"] == pytest.approx((t.size - 1) / (t[-1] - t[0]))
        assert sidecar["Gaitmon"]["session_id"] == meta.session_id and sidecar["Gaitmon"]["side"] == side
    left = json.loads(_file(root, "left", "motion.json").read_text())
    assert (left["Manufacturer"], left["ManufacturersModelName"]) == ("Polar Electro", "Polar Verity Sense")
    assert left["DeviceSerialNumber"] == "A0:9E:1A:00:00:01" and "SoftwareVersions" not in left
    right = json.loads(_file(root, "right", "motion.json").read_text())
    assert (right["Manufacturer"], right["DeviceSerialNumber"]) == ("Movesense", "0C:8C:DC:00:00:02")
    assert not any(key.startswith("Institution") for key in left)  # nobody said which


def test_what_the_sensor_told_comes_first(tmp_path):
    """Device Information strings replace the family's names and the address; a firmware revision
    becomes SoftwareVersions, with the software revision when there is one."""
    samples, _ = _session()
    meta = _meta()
    meta.sensors["left"] = replace(meta.sensors["left"], manufacturer="Polar Electro Oy", model="Polar Sense",
                                   serial_number="C8A1B2C3", firmware="2.1.9", software="3.0.35")
    meta.sensors["right"] = replace(meta.sensors["right"], firmware="2.2.1")
    export_bids(tmp_path, meta, samples)
    left = json.loads(_file(tmp_path, "left", "motion.json").read_text())
    assert (left["Manufacturer"], left["ManufacturersModelName"], left["DeviceSerialNumber"]) == (
        "Polar Electro Oy", "Polar Sense", "C8A1B2C3")
    assert left["SoftwareVersions"] == "2.1.9 (software 3.0.35)"
    right = json.loads(_file(tmp_path, "right", "motion.json").read_text())
    assert (right["Manufacturer"], right["ManufacturersModelName"], right["DeviceSerialNumber"]) == (
        "Movesense", "Movesense (GSP)", "0C:8C:DC:00:00:02")  # what it did not tell: as before
    assert right["SoftwareVersions"] == "2.2.1"


def test_emulated_sensors_are_named_as_such(tmp_path):
    """The emulator made an emulated session's measurements: it is the manufacturer, gaitmon the software."""
    samples, _ = _session()
    meta = _meta()
    meta.source = "emulated:gaitmon_diy"
    meta.sensors = {side: SensorInfo(side, address=f"C0:FF:EE:00:00:0{i}", family="gaitmon_diy")
                    for i, side in enumerate(("left", "right"), start=1)}
    export_bids(tmp_path, meta, samples)
    sidecar = json.loads(_file(tmp_path, "right", "motion.json").read_text())
    assert sidecar["Manufacturer"] == "gaitmon sensor emulator"
    assert sidecar["ManufacturersModelName"] == "emulated gaitmon DIY board"
    assert sidecar["SoftwareVersions"] == f"gaitmon {meta.software_version}"
    assert sidecar["DeviceSerialNumber"] == "C0:FF:EE:00:00:02"


def test_what_only_the_user_knows_goes_where_bids_wants_it(tmp_path, exported):
    root, meta, samples, events, _ = exported
    told = BidsDescription(authors=("Ada Lovelace", "Bo Li"), license="CC-BY-4.0", institution="Track Club",
                           institution_address="1 Track Rd", department="Sprints",
                           task_description="4 x 30 m flying", instructions="Run tall.")
    export_bids(root, meta, samples, events, description=told)
    desc = json.loads((root / "dataset_description.json").read_text())
    assert desc["Authors"] == ["Ada Lovelace", "Bo Li"] and desc["License"] == "CC-BY-4.0"
    sidecar = json.loads(_file(root, "left", "motion.json").read_text())
    assert (sidecar["InstitutionName"], sidecar["InstitutionAddress"], sidecar["InstitutionalDepartmentName"]) == (
        "Track Club", "1 Track Rd", "Sprints")
    assert (sidecar["TaskDescription"], sidecar["Instructions"]) == ("4 x 30 m flying", "Run tall.")
    # A later export that says nothing about the dataset keeps its authors and license.
    export_bids(root, _meta(athlete="Bo Li"), {"right": samples["right"]})
    assert json.loads((root / "dataset_description.json").read_text()) == desc


def test_scans_tsv_acq_time_is_the_first_sample(exported):
    root, _, samples, _, _ = exported
    rows = _tsv(root / f"sub-{SUB}" / f"ses-{SES}" / f"sub-{SUB}_ses-{SES}_scans.tsv")
    assert rows[0] == ["filename", "acq_time"]
    start = dt.datetime.fromisoformat(STARTED)
    for (name, when), side in zip(rows[1:], ("left", "right")):
        assert name == f"motion/{_file(root, side, 'motion.tsv').name}"
        assert BIDS_DATETIME.fullmatch(when) and re.search(r"\.\d{6}Z$", when)
        first = start + dt.timedelta(seconds=float(samples[side][0][0]))
        assert when == first.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_events_tsv(exported):
    root = exported[0]
    rows = _tsv(_file(root, "left", "events.tsv"))
    assert rows[0] == ["onset", "duration", "trial_type", "side", "value"]
    onsets = [float(r[0]) for r in rows[1:]]
    assert onsets == sorted(onsets) and {r[3] for r in rows[1:]} == {"left"}
    described = json.loads(_file(root, "left", "events.json").read_text())
    assert {"trial_type", "side", "value"} <= set(described)
    assert set(described["trial_type"]["Levels"]) == {"TO", "MSW", "IC"}


# --------------------------------------------------------------------------------------------------
# Round trip
# --------------------------------------------------------------------------------------------------


def test_round_trip_is_exact(exported):
    root, meta, samples, events, _ = exported
    back = read_bids(root)
    assert back.meta == meta
    assert list(back.samples) == ["left", "right"]
    for side, (t, x) in samples.items():
        t2, x2 = back.samples[side]
        assert t2.dtype == np.float64 and x2.dtype == np.float32
        assert np.array_equal(x2.view(np.uint32), x.view(np.uint32))
        assert (np.abs(t2 - t) <= 1e-9 + 1e-15 * np.abs(t)).all()
    expected = sorted(events)
    assert len(back.events) == len(expected)
    for got, want in zip(back.events, expected):
        assert (got.side, got.kind) == (want.side, want.kind)
        assert abs(got.t - want.t) <= 1e-9 + 1e-15 * abs(want.t)
        assert (math.isnan(got.value) and math.isnan(want.value)) or got.value == want.value
    # An event on a sample time reads back equal to that sample's time (same offset, same text).
    on_sample = [e for e in back.events if math.isnan(e.value)]
    assert on_sample[0].t == back.samples["left"][0][1234]
    assert _file(root, "left", "motion.tsv") in back.files


def test_two_sessions_in_one_dataset(tmp_path, exported):
    root, meta, samples, events, _ = exported
    other = _meta(started_at="2026-11-22T08:00:00.000001+00:00")
    export_bids(root, other, {"left": samples["left"]}, [e for e in events if e.side == "left"])
    export_bids(root, _meta(athlete="Bo Li"), {"right": samples["right"]})
    with pytest.raises(InputError, match=r"holds 3 sessions .*pass one session folder") as info:
        read_bids(root)
    assert info.value.path == str(root)
    assert read_bids(root / f"sub-{SUB}" / f"ses-{SES}").meta == meta
    second = read_bids(root / f"sub-{SUB}" / "ses-20261122T080000")
    assert second.meta == other and list(second.samples) == ["left"]
    assert read_bids(root / "sub-BoLi").meta.athlete == "Bo Li"
    assert _tsv(root / "participants.tsv")[1:] == [[f"sub-{SUB}"], ["sub-BoLi"]]


def test_re_export_overwrites_its_own_files_only(tmp_path, exported):
    root, meta, samples, events, _ = exported
    other = _meta(started_at="2026-11-22T08:00:00+00:00")
    export_bids(root, other, samples)
    snapshot = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    export_bids(root, meta, samples, events)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == snapshot
    # Without events and right side: those files go, the other session stays as it was.
    export_bids(root, meta, {"left": samples["left"]})
    assert not list(_motion_dir(root).glob("*_events.*")) and not list(_motion_dir(root).glob("*RightShank*"))
    assert len(_tsv(root / f"sub-{SUB}" / f"ses-{SES}" / f"sub-{SUB}_ses-{SES}_scans.tsv")) == 2
    for path, data in snapshot.items():
        if "20261122T080000" in str(path):
            assert path.read_bytes() == data
    assert _tsv(root / "participants.tsv") == [["participant_id"], [f"sub-{SUB}"]]


def test_another_recording_in_the_same_second_is_refused(exported):
    root, _, samples, _, _ = exported
    with pytest.raises(InputError, match="already holds another recording"):
        export_bids(root, _meta(), samples)  # new session_id, same athlete and start second


def test_export_refuses_a_non_bids_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    samples, _ = _session()
    with pytest.raises(InputError, match="not a BIDS dataset"):
        export_bids(tmp_path, _meta(), samples)


@pytest.mark.parametrize(
    ("samples", "match"),
    [
        ({}, "no side has samples"),
        ({"middle": (np.zeros(2), np.zeros((2, 6), np.float32))}, "unknown side"),
        ({"left": (np.array([0.0, 1.0]), np.zeros((2, 6)))}, "float32"),
        ({"left": (np.array([0.0, 0.0]), np.zeros((2, 6), np.float32))}, "increase strictly"),
        ({"left": (np.array([0.0, np.nan]), np.zeros((2, 6), np.float32))}, "finite"),
    ],
)
def test_export_rejects_malformed_samples(tmp_path, samples, match):
    with pytest.raises(ValueError, match=match):
        export_bids(tmp_path / "ds", _meta(), samples)


# --------------------------------------------------------------------------------------------------
# Strict reading
# --------------------------------------------------------------------------------------------------


def _expect(root_or_session: Path, path: Path, where: str | None, needle: str) -> None:
    with pytest.raises(InputError) as info:
        read_bids(root_or_session)
    assert info.value.path == str(path)
    assert info.value.where == where
    assert needle in str(info.value)


def test_truncated_motion_tsv(exported):
    root = exported[0]
    path = _file(root, "left", "motion.tsv")
    text = path.read_text()
    path.write_text(text[: text.rindex("\t")])  # last line cut inside its last value's field
    n = text.count("\n")
    _expect(root, path, f"line {n}", "found 6 (the last line looks truncated)")


def test_non_number(exported):
    root = exported[0]
    path = _file(root, "right", "motion.tsv")
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[4].split("\t")
    fields[2] = "n/a"
    lines[4] = "\t".join(fields)
    path.write_text("".join(lines))
    _expect(root, path, "line 5", "column 3: 'n/a' is not a number")


def test_extra_column_does_not_match_channels_tsv(exported):
    root = exported[0]
    path = _file(root, "left", "motion.tsv")
    path.write_text("".join(line + "\t0\n" for line in path.read_text().splitlines()))
    _expect(root, path, "line 1", "expected 7 tab-separated values (one per row of the channels.tsv), "
                                  "found 8")


def test_latency_must_increase(exported):
    root = exported[0]
    path = _file(root, "left", "motion.tsv")
    lines = path.read_text().splitlines(keepends=True)
    lines[9], lines[10] = lines[10], lines[9]
    path.write_text("".join(lines))
    _expect(root, path, "line 11", "does not increase")


def test_missing_channels_tsv(exported):
    root = exported[0]
    path = _file(root, "right", "channels.tsv")
    path.unlink()
    _expect(root, path, None, "file not found")


def test_bad_channels_tsv(exported):
    root = exported[0]
    path = _file(root, "left", "channels.tsv")
    path.write_text(path.read_text().replace("\tGYRO\tLeftShank\trad/s", "\tGYRO\tLeftShank\tdeg/s", 1))
    _expect(root, path, "line 6", "units 'deg/s', expected 'rad/s'")


def test_bad_sidecar_json(exported):
    root = exported[0]
    path = _file(root, "left", "motion.json")
    path.write_text(path.read_text().replace('"TaskName": "sprint",', '"TaskName": "sprint"', 1))
    _expect(root, path, "line 3", "not valid JSON")
    path.write_text(json.dumps({"TaskName": "walk", "SamplingFrequency": 100}))
    _expect(root, path, "key 'Gaitmon'", "not a gaitmon export")


def test_bad_events_tsv(exported):
    root = exported[0]
    path = _file(root, "left", "events.tsv")
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("\tleft\t", "\tup\t")
    path.write_text("".join(lines))
    _expect(root, path, "line 3", "side 'up'")


def test_motion_tsv_cut_at_a_line_end(exported):
    """A cut between two lines leaves well-formed lines: the sidecar's RecordingDuration shows it."""
    root = exported[0]
    path = _file(root, "left", "motion.tsv")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:1000]))
    _expect(root, path, "line 1000", "samples are missing (file truncated?)")


@pytest.mark.parametrize("suffix", ["motion.tsv", "events.tsv", "channels.tsv"])
def test_last_line_cut_inside_a_value(exported, suffix):
    """The cut leaves a shorter number, and a line without its line end."""
    root = exported[0]
    path = _file(root, "right", suffix)
    text = path.read_text()
    path.write_text(text[:-3])
    _expect(root, path, f"line {text.count(chr(10))}", "the last line has no line end: the file looks truncated")


@pytest.mark.parametrize("suffix", ["motion.json", "channels.json", "events.json"])
def test_truncated_json(exported, suffix):
    root = exported[0]
    path = _file(root, "left", suffix)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputError) as info:
        read_bids(root)
    assert info.value.path == str(path) and "not valid JSON" in str(info.value)
    assert info.value.where == f"line {text[: len(text) // 2].count(chr(10)) + 1}"


def test_garbled_bytes(exported):
    root = exported[0]
    for suffix, line in (("motion.tsv", 35), ("events.tsv", 4), ("motion.json", 3)):
        path = _file(root, "left", suffix)
        data = path.read_bytes()
        pristine = data
        start = sum(len(x) for x in data.splitlines(keepends=True)[: line - 1])
        path.write_bytes(data[: start + 2] + b"\xff\xfe" + data[start + 4 :])
        _expect(root, path, f"line {line}", "not valid UTF-8 text")
        path.write_bytes(pristine)


def test_damaged_dataset_description(exported):
    root = exported[0]
    path = root / "dataset_description.json"
    path.write_text(path.read_text().replace('"Name":', '"Name"', 1))
    _expect(root, path, "line 2", "not valid JSON")


def test_foreign_and_missing_folders(tmp_path):
    (tmp_path / "data.csv").write_text("t,x\n")
    _expect(tmp_path, tmp_path, None, "not a BIDS motion dataset: no dataset_description.json")
    _expect(tmp_path / "nope", tmp_path / "nope", None, "no such folder")
    (tmp_path / "dataset_description.json").write_text('{"Name": "x", "BIDSVersion": "1.11.1"}')
    _expect(tmp_path, tmp_path, None, "no motion recording found")


# --------------------------------------------------------------------------------------------------
# Datasets of several sessions
# --------------------------------------------------------------------------------------------------


def test_import_of_a_dataset_imports_every_session_idempotently(exported, tmp_path, capsys):
    from gaitmon.cli import main

    root, _, samples, events, _ = exported
    export_bids(root, _meta(started_at="2026-11-22T08:00:00+00:00"), samples, events)
    export_bids(root, _meta(athlete="Bo Li"), samples, events)
    db = tmp_path / "h.sqlite"
    assert main(["import", str(root), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.count(": added") == 3, out
    for session in (f"sub-{SUB}/ses-{SES}", f"sub-{SUB}/ses-20261122T080000", f"sub-BoLi/ses-{SES}"):
        assert f"{root / session}: " in out
    assert main(["import", str(root), str(root / "sub-BoLi"), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.count(": unchanged") == 4 and ": added" not in out, out
    assert main(["history", "Bo Li", "--db", str(db)]) == 0
    assert main(["history", "Zoë O'Brien", "--db", str(db)]) == 0


def test_import_stops_at_a_damaged_session_naming_its_file(exported, tmp_path, capsys):
    from gaitmon.cli import main

    root, _, samples, events, _ = exported
    export_bids(root, _meta(athlete="Bo Li"), samples, events)
    path = root / "sub-BoLi" / f"ses-{SES}" / "motion" / f"sub-BoLi_ses-{SES}_task-sprint_tracksys-LeftShank_events.tsv"
    lines = path.read_text().splitlines(keepends=True)
    lines[6] = "garbage\n"
    path.write_text("".join(lines))
    assert main(["import", str(root), "--db", str(tmp_path / "h.sqlite")]) == 2
    err = capsys.readouterr().err
    assert f"{path}: line 7: expected 5 tab-separated fields" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------------------
# The official validator
# --------------------------------------------------------------------------------------------------

#: Recommended fields gaitmon cannot fill, and why (README, "BIDS export").
NOT_KNOWN_TO_GAITMON = {
    "HEDVersion",  # dataset_description.json: only "if HED tags are used"; gaitmon writes none
    "SourceDatasets",  # dataset_description.json: the source, a session folder on a laptop, has no URL or DOI
    "SubjectArtefactDescription",  # *_motion.json: what (implant, brace, ...) may disturb this athlete's data
    "StimulusPresentation",  # *_events.json: gait events are detected, no stimulus is presented
}
#: Recommended fields the user gives on the command line.
TOLD_BY_THE_USER = {"Authors", "TOO_FEW_AUTHORS", "License", "InstitutionName", "InstitutionAddress",
                    "InstitutionalDepartmentName", "TaskDescription", "Instructions"}
#: A sensor's firmware version, from its Device Information Service: missing for a sensor that has
#: none (and in sessions recorded before gaitmon read it, as ``_meta()``'s).
FIRMWARE = "SoftwareVersions"


def _bids_validator(root: Path) -> list[dict]:
    """The issues the official BIDS validator (bids-validator-deno) finds in ``root``, with no network:
    the bundled validator runs under deno with network access denied, so a schema download would fail."""
    deno = pytest.importorskip("deno", reason="bids-validator-deno is not installed (pip install -e '.[test]')")
    validator = pytest.importorskip("bids_validator_deno", reason="bids-validator-deno is not installed "
                                                                  "(pip install -e '.[test]')")
    bundle = Path(validator.__file__).with_name("bids-validator.js")
    command = [os.fsdecode(deno.find_deno_bin()), "run", "--no-prompt", "--allow-read", "--allow-env",
               "--deny-net", "--deny-write", "--deny-run", str(bundle), str(root), "--format", "json",
               "--max-rows", "-1"]  # every row of every TSV, not the first 1000
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the validator printed no JSON (exit {run.returncode}): {run.stderr[-2000:]}")
    return report["issues"]["issues"]


def _fields_warned(issues: list[dict]) -> set[str]:
    assert [i for i in issues if i["severity"] == "error"] == []
    return {i.get("subCode") or i["code"] for i in issues}


def _two_athletes_two_sessions(root: Path, description: BidsDescription = BidsDescription()) -> None:
    """Zoë twice (live Polar and Movesense sensors), Bo once (emulated sensors)."""
    samples, events = _session()
    export_bids(root, _meta(), samples, events, description=description)
    export_bids(root, _meta(started_at="2026-11-22T08:00:00+00:00"), samples, events, description=description)
    emulated = _meta(athlete="Bo Li")
    emulated.source = "emulated:gaitmon_diy"
    emulated.sensors = {side: SensorInfo(side, address=f"C0:FF:EE:00:00:0{i}", family="gaitmon_diy",
                                         rate_hz=500.0) for i, side in enumerate(("left", "right"), start=1)}
    export_bids(root, emulated, samples, events, description=description)


def test_the_official_validator_warns_only_about_what_gaitmon_cannot_know(tmp_path):
    told = BidsDescription(authors=("Ada Lovelace", "Bo Li"), license="CC-BY-4.0", institution="Track Club",
                           institution_address="1 Track Rd, Town", department="Sprints",
                           task_description="Four 30 m flying sprints", instructions="Run tall.")
    _two_athletes_two_sessions(tmp_path / "ds", told)
    issues = _bids_validator(tmp_path / "ds")
    assert _fields_warned(issues) == NOT_KNOWN_TO_GAITMON | {FIRMWARE}
    # the firmware version is missing for the real sensors only: the emulator's software is gaitmon
    firmware = {i["location"].split("/")[1] for i in issues if i.get("subCode") == FIRMWARE}
    assert firmware == {f"sub-{SUB}"}


def test_the_validator_sees_what_the_user_did_not_say(tmp_path):
    """Without authors, license, institution and task: those warnings, and only those, come back."""
    _two_athletes_two_sessions(tmp_path / "ds")
    assert _fields_warned(_bids_validator(tmp_path / "ds")) == NOT_KNOWN_TO_GAITMON | {FIRMWARE} | TOLD_BY_THE_USER


def test_a_live_emulated_session_exports_what_its_sensors_told(tmp_path):
    """Recorded by the engine through bleak's emulated backend, exported by ``gaitmon export``: the
    sensors' Device Information fills the hardware fields, and the validator no longer asks for
    ``SoftwareVersions``."""
    from gaitmon.cli import main
    from gaitmon.engine.runtime import EmulatedSource, Engine

    pair = emulated_pair("polar_pmd", "balanced", seed=0, n_reps=1, recovery_s=4.0)
    engine = Engine({"Ann": EmulatedSource(prepared=pair, realtime=False)}, sessions_dir=tmp_path / "sessions",
                    dashboard=False, history_db=tmp_path / "history.sqlite", on_message=lambda _: None,
                    on_error=lambda _: None)
    engine.run_to_end()
    out = tmp_path / "ds"
    assert main(["export", str(engine.recorder("Ann").folder), "--bids", str(out)]) == 0
    warned = _fields_warned(issues := _bids_validator(out))
    assert warned == NOT_KNOWN_TO_GAITMON | TOLD_BY_THE_USER, issues
    for point, serial in (("LeftShank", "EMU-C0FFEE000001"), ("RightShank", "EMU-C0FFEE000002")):
        sidecar = json.loads(next(out.glob(f"sub-Ann/ses-*/motion/*_tracksys-{point}_motion.json")).read_text())
        assert sidecar["Manufacturer"] == "gaitmon sensor emulator"
        assert sidecar["ManufacturersModelName"] == "emulated Polar Verity Sense"
        assert sidecar["DeviceSerialNumber"] == serial
        assert sidecar["SoftwareVersions"] == f"gaitmon-emulator {__version__} (software PMD emulation {__version__})"


def test_the_validator_run_reports_errors(exported):
    """The harness sees errors: a sidecar without the REQUIRED SamplingFrequency is one."""
    root = exported[0]
    path = _file(root, "left", "motion.json")
    sidecar = json.loads(path.read_text())
    del sidecar["SamplingFrequency"]
    path.write_text(json.dumps(sidecar))
    errors = [i for i in _bids_validator(root) if i["severity"] == "error"]
    assert {(i["code"], i.get("subCode")) for i in errors} == {("SIDECAR_KEY_REQUIRED", "SamplingFrequency")}


def test_export_command_passes_what_the_user_tells(exported, tmp_path, capsys):
    from gaitmon.cli import main

    root = exported[0]
    out = tmp_path / "shared"
    assert main(["export", str(root), "--bids", str(out), "--authors", "Ada Lovelace, Bo Li", "--license", "CC0-1.0",
                 "--institution", "Track Club", "--institution-address", "1 Track Rd", "--department", "Sprints",
                 "--task-description", "Flying 30s", "--instructions", "Run tall."]) == 0
    assert _fields_warned(_bids_validator(out)) == NOT_KNOWN_TO_GAITMON | {FIRMWARE}
    assert json.loads((out / "dataset_description.json").read_text())["Authors"] == ["Ada Lovelace", "Bo Li"]


# --------------------------------------------------------------------------------------------------
# The nine-digit formatters
# --------------------------------------------------------------------------------------------------


def _g9_texts(values: np.ndarray) -> list[str]:
    return _format.join_rows([_format.g9_block(values)]).decode().splitlines()


def _check_g9(values: np.ndarray) -> None:
    """Text reads back as the same float32 and is within one unit of the 9th digit of ``%.9g``."""
    values = np.asarray(values, dtype=np.float32)
    texts = _g9_texts(values)
    back = np.array(texts, dtype=np.float64).astype(np.float32)
    assert np.array_equal(back.view(np.uint32), values.view(np.uint32)), [
        (v, s) for v, s, b in zip(values.tolist(), texts, back.tolist()) if b != v][:5]
    for value, text in zip(values.astype(np.float64).tolist(), texts):
        reference = "%.9g" % value
        if text != reference:
            exact = Decimal(reference)
            unit = Decimal(1).scaleb(exact.adjusted() - 8)
            assert abs(Decimal(text) - exact) <= unit, (value, text, reference)


EDGE_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.1, 9.80665, 1e-4, 1e-5, 9.999999e-5, 1e8, 1e9, 123456789.0,
               999999999.0, 1e-14, 1e-15, 1e30, 1e31,
               3.4028234663852886e38, 1.1754943508222875e-38, 1.401298464324817e-45,  # max, min normal, min
               np.nextafter(np.float32(1e-4), np.float32(0)), np.nextafter(np.float32(10), np.float32(0)),
               np.nextafter(np.float32(1e9), np.float32(np.inf)), 156.9, 34.906586]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=1, max_size=64))
@example(EDGE_FLOATS)
@example([-v for v in EDGE_FLOATS])
def test_g9_round_trips_every_float32_magnitude(values):
    _check_g9(np.array(values, dtype=np.float32))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=-200.0, max_value=200.0, width=32), min_size=1, max_size=64))
def test_g9_round_trips_imu_values(values):
    _check_g9(np.array(values, dtype=np.float32))


def test_g9_million_random_float32():
    rng = np.random.default_rng(2026)
    bits = rng.integers(0, 2**32, 500_000, dtype=np.uint64).astype(np.uint32)  # every exponent alike
    anywhere = bits.view(np.float32)
    anywhere = anywhere[np.isfinite(anywhere)]
    imu = (rng.standard_normal(500_000) * 10.0 ** rng.uniform(-4, 2.3, 500_000)).astype(np.float32)
    values = np.concatenate([anywhere, imu])
    assert values.size > 990_000
    texts = _g9_texts(values)
    back = np.array(texts, dtype=np.float64).astype(np.float32)
    assert np.array_equal(back.view(np.uint32), values.view(np.uint32))
    some = imu[:200_000]
    in_range = np.abs(some) >= 1e-4  # exact scaling there: byte-identical to Python's %.9g
    assert [t for t, keep in zip(texts[-imu.size:], in_range) if keep] == [
        "%.9g" % v for v in some[in_range].astype(np.float64).tolist()]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=_format.F9_LIMIT, exclude_max=True), min_size=1,
                max_size=64))
@example([0.0, 5e-10, 1.5e-9, 2.5e-9, 0.1, 1.0000000005, 1234.0000000005, 3599.9999999995,
          4499999.9999999995])
def test_f9_matches_python(values):
    text = _format.join_rows([_format.f9_block(np.array(values))]).decode()
    assert text.splitlines() == ["%.9f" % v for v in values]
