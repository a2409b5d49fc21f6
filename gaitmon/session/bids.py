"""Export a session as a BIDS motion dataset, and read it back losslessly.

Layout
------
One export adds one session to a BIDS dataset (BIDS 1.11, motion modality)::

    <out_dir>/
        dataset_description.json      Name, BIDSVersion, DatasetType "raw", GeneratedBy gaitmon
                                      (+ Authors, License when the user gives them)
        participants.tsv              one row per athlete (participant_id)
        README                        what the files hold (written once)
        sub-<athlete>/ses-<YYYYMMDDThhmmss>/
            sub-…_ses-…_scans.tsv     filename, acq_time of each motion file (UTC, µs)
            motion/
                sub-…_ses-…_task-<task>_tracksys-LeftShank_motion.tsv     no header: LATENCY,
                                                                           ACCEL x y z, GYRO x y z
                …_tracksys-LeftShank_motion.json      sidecar (+ the "Gaitmon" key, see below)
                …_tracksys-LeftShank_channels.tsv     one row per motion.tsv column
                …_tracksys-LeftShank_channels.json    the "sensor" reference frame
                …_tracksys-LeftShank_events.tsv/.json gait events (only when there are any)
                … the same for RightShank

``<athlete>`` is :attr:`SessionMeta.athlete` reduced to ASCII letters and digits (``unknown`` when
nothing is left); the session label is the start time in UTC. For ``placement="foot"`` the
tracking systems are ``LeftFoot``/``RightFoot``.

Why one tracking system per sensor: BIDS defines a tracking system as channels sharing one device
and one set of samples, and the two shank IMUs sample on independent clocks (different counts,
gaps). Each motion file has its own onset: its first sample. ``LATENCY`` is the time of each sample
in s since that first sample, and ``acq_time`` in ``scans.tsv`` is the wall-clock time of the first
sample (``started_at`` + its session-clock time, to the µs). Event onsets in an
``*_tracksys-<label>_events.tsv`` are relative to the same first sample; each side's events go with
that side's tracking system.

Units and frames: ACCEL in m/s² (specific force), GYRO in rad/s, both in the sensor's own axes as
mounted (reference frame ``sensor``, right-handed, described in ``*_channels.json``; see
:mod:`gaitmon.consts`); LATENCY and onsets in s.

Precision (lossless round trip)
-------------------------------
Sample values are written with nine significant digits, which always read back as the identical
float32. LATENCY and event onsets are written with nine decimals (``"%.9f"``, 1 ns), so times read
back within 0.5 ns plus float64 rounding (below 1 ns for sessions shorter than a few days). The
exact session-clock time of each first sample is kept in the sidecar (``Gaitmon.first_sample_s``),
since ``acq_time`` has only µs resolution. Event values are written as the shortest text that
reads back as the same float64.

Recommended fields
------------------
Every ``*_motion.json`` has all ten ``<TYPE>ChannelCount``, ``MissingValues`` and the sensor's
hardware as far as gaitmon knows it (:func:`sensor_hardware`): first what the sensor told in its
Device Information Service (``Manufacturer``, ``ManufacturersModelName``, ``DeviceSerialNumber``,
its firmware revision as ``SoftwareVersions``), else its family's names and its Bluetooth address;
:class:`BidsDescription` carries what only the user knows. The official validator's remaining
warnings, and why, are listed in ``docs/sessions.md``.

gaitmon metadata
----------------
Each ``*_motion.json`` carries a ``"Gaitmon"`` object (BIDS allows keys of its own in sidecars):
the full :meth:`SessionMeta.to_json` (athlete, session_id, placement, started_at, source,
sensors, software_version, …) plus ``side`` and ``first_sample_s``. :func:`read_bids` rebuilds
the session from it and therefore reads gaitmon exports only, one session at a time;
:func:`bids_sessions` lists the sessions of a dataset.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np

from gaitmon._version import __version__
from gaitmon.consts import EVENT_KINDS, PLACEMENTS, SAMPLE_COLUMNS, SIDES
from gaitmon.errors import InputError
from gaitmon.events import GaitEvent
from gaitmon.io import _format
from gaitmon.io._common import names_list, quote, read_text_lines, where
from gaitmon.sensors import FAMILIES
from gaitmon.session.meta import SensorInfo, SessionMeta

__all__ = ["BIDS_VERSION", "BidsDescription", "BidsSession", "bids_sessions", "export_bids", "read_bids",
           "session_label", "subject_label"]

#: BIDS version the export follows.
BIDS_VERSION = "1.11.1"
#: Sidecar key holding gaitmon's own metadata.
GAITMON_KEY = "Gaitmon"

#: Channels of a motion file, in column order: (name suffix, component, type, units).
CHANNELS: tuple[tuple[str, str, str, str], ...] = (
    ("latency", "n/a", "LATENCY", "s"),
    ("acc_x", "x", "ACCEL", "m/s^2"),
    ("acc_y", "y", "ACCEL", "m/s^2"),
    ("acc_z", "z", "ACCEL", "m/s^2"),
    ("gyro_x", "x", "GYRO", "rad/s"),
    ("gyro_y", "y", "GYRO", "rad/s"),
    ("gyro_z", "z", "GYRO", "rad/s"),
)
#: Channel types of BIDS motion; each gets its ``<TYPE>ChannelCount`` (0 when absent).
CHANNEL_TYPES: tuple[str, ...] = (
    "ACCEL", "ANGACCEL", "GYRO", "JNTANG", "LATENCY", "MAGN", "MISC", "ORNT", "POS", "VEL",
)
#: Columns of ``*_channels.tsv``: the five the spec requires first, in its order, then optional ones.
CHANNEL_COLUMNS: tuple[str, ...] = (
    "name", "component", "type", "tracked_point", "units",
    "placement", "reference_frame", "sampling_frequency",
)
EVENT_COLUMNS: tuple[str, ...] = ("onset", "duration", "trial_type", "side", "value")
REFERENCE_FRAME = "sensor"

_ROWS_PER_WRITE = 65536
_SUFFIXES = ("motion.tsv", "motion.json", "channels.tsv", "channels.json", "events.tsv", "events.json")
_LABEL = re.compile(r"[0-9A-Za-z]+")
_MISSING = "n/a"
#: How far the last LATENCY may be from the sidecar's RecordingDuration (both written to 1 ns), s.
_DURATION_TOLERANCE_S = 1e-6


@dataclass(frozen=True)
class BidsDescription:
    """What only the user knows about a dataset and its recordings; empty fields are not written.

    Attributes
    ----------
    authors : tuple of str
        ``dataset_description.json`` ``Authors``, one person per item.
    license : str
        ``dataset_description.json`` ``License``, preferably an SPDX identifier such as ``CC-BY-4.0``.
    institution, institution_address, department : str
        ``InstitutionName``, ``InstitutionAddress``, ``InstitutionalDepartmentName`` of the motion sidecars.
    task_description, instructions : str
        ``TaskDescription`` and ``Instructions`` (given to the athlete) of the motion sidecars.
    """

    authors: tuple[str, ...] = field(default_factory=tuple)
    license: str = ""
    institution: str = ""
    institution_address: str = ""
    department: str = ""
    task_description: str = ""
    instructions: str = ""

    def dataset_fields(self) -> dict:
        """The ``dataset_description.json`` keys given."""
        fields = {"Authors": list(self.authors), "License": self.license}
        return {key: value for key, value in fields.items() if value}

    def recording_fields(self) -> dict:
        """The ``*_motion.json`` keys given."""
        fields = {
            "InstitutionName": self.institution,
            "InstitutionAddress": self.institution_address,
            "InstitutionalDepartmentName": self.department,
            "TaskDescription": self.task_description,
            "Instructions": self.instructions,
        }
        return {key: value for key, value in fields.items() if value}


@dataclass
class BidsSession:
    """A session read back by :func:`read_bids`.

    Attributes
    ----------
    meta : SessionMeta
        As exported (``source`` included: it says how the session was recorded).
    samples : dict
        ``side -> (t, x)``: ``t`` float64 ``(n,)`` s on the session clock; ``x`` float32 ``(n, 6)``
        ``ax, ay, az`` (m/s²), ``gx, gy, gz`` (rad/s) in the sensor frame.
    events : list of GaitEvent
        Sorted; times on the session clock, s.
    files : list of Path
        The files that were read.
    """

    meta: SessionMeta
    samples: dict[str, tuple[np.ndarray, np.ndarray]]
    events: list[GaitEvent]
    files: list[Path]


# --------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------


def subject_label(athlete: str) -> str:
    """BIDS subject label of an athlete: ASCII letters and digits only (accents dropped), or ``unknown``."""
    ascii_text = unicodedata.normalize("NFKD", athlete).encode("ascii", "ignore").decode()
    return "".join(_LABEL.findall(ascii_text)) or "unknown"


def _utc(started_at: str) -> _dt.datetime:
    """``started_at`` as a datetime, converted to UTC when it carries an offset (naive stays naive)."""
    start = _dt.datetime.fromisoformat(started_at)
    return start.astimezone(_dt.timezone.utc) if start.tzinfo else start


def session_label(started_at: str) -> str:
    """BIDS session label of a start time (ISO 8601): its UTC date-time, e.g. ``20261121T101503``."""
    return _utc(started_at).strftime("%Y%m%dT%H%M%S")


def acq_time(started_at: str, offset_s: float) -> str:
    """BIDS date-time of ``started_at + offset_s`` with µs, ``Z``-suffixed when ``started_at`` is aware."""
    when = _utc(started_at) + _dt.timedelta(seconds=offset_s)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + ("Z" if when.tzinfo else "")


def tracked_point(side: str, placement: str) -> str:
    """Tracked point and tracking-system label, e.g. ``LeftShank``."""
    return side.capitalize() + placement.capitalize()


def _our_file(sub: str, ses: str) -> re.Pattern[str]:
    """Names of the files an export writes into ``motion/`` of one session."""
    points = "|".join(tracked_point(s, p) for s in SIDES for p in ("shank", "foot"))
    suffixes = "|".join(re.escape(s) for s in _SUFFIXES)
    return re.compile(rf"sub-{sub}_ses-{ses}_task-[0-9A-Za-z]+_tracksys-(?:{points})_(?:{suffixes})")


# --------------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------------


def export_bids(
    out_dir: str | Path,
    meta: SessionMeta,
    samples: dict[str, tuple[np.ndarray, np.ndarray]],
    events: Iterable[GaitEvent] = (),
    task: str = "sprint",
    description: BidsDescription = BidsDescription(),
) -> list[Path]:
    """Write one session into a BIDS motion dataset (created if needed); see the module docstring.

    Other sessions in ``out_dir`` are left alone. Exporting the same session again (same subject,
    session label and ``session_id``) replaces its own files only; a different session that maps
    to the same subject and start second is refused.

    Parameters
    ----------
    out_dir : str or Path
        Dataset root: a new or empty folder, or an existing BIDS dataset.
    meta : SessionMeta
        Session metadata; ``athlete`` and ``started_at`` name the subject and the session,
        ``sensors[side].rate_hz`` is the nominal rate (estimated from the samples when 0).
    samples : dict
        ``side -> (t, x)``: ``t`` ``(n,)`` float64 s on the session clock, finite, strictly
        increasing (also at 1 ns resolution), gaps allowed; ``x`` ``(n, 6)`` float32 ``ax, ay, az``
        (m/s²), ``gx, gy, gz`` (rad/s) in the sensor frame. Sides with no samples are skipped.
    events : iterable of GaitEvent
        Gait events (session clock, s) of sides that have samples.
    task : str
        BIDS task label (letters and digits).
    description : BidsDescription
        What the user tells about the dataset (authors, license) and the recording (institution,
        task); dataset fields replace those of an existing dataset, the others are kept.

    Returns
    -------
    list of Path
        Every file written.

    Raises
    ------
    ValueError
        Malformed arguments (no samples at all, wrong shapes, non-finite values, times not
        increasing, bad task label, events of a side without samples): a programming error.
    gaitmon.errors.InputError
        ``out_dir`` is a non-empty folder that is not a BIDS dataset, it holds another session
        under the same labels, one of its files is unreadable, or a file cannot be written.
    """
    if not _LABEL.fullmatch(task):
        raise ValueError(f"task label {task!r} must be letters and digits only")
    if meta.placement not in PLACEMENTS:
        raise ValueError(f"placement {meta.placement!r} is not one of {PLACEMENTS}")
    per_side = _checked_samples(samples)
    rates = {side: _nominal_rate(meta, side, t) for side, (t, _) in per_side.items()}
    events = sorted(events)
    for e in events:
        if e.side not in per_side:
            raise ValueError(f"event at t={e.t!r} s is on side {e.side!r}, which has no samples")
    root = Path(out_dir)
    _check_dataset_root(root)
    sub, ses = subject_label(meta.athlete), session_label(meta.started_at)
    ses_dir = root / f"sub-{sub}" / f"ses-{ses}"
    ours = _our_file(sub, ses)
    _check_session_folder(ses_dir, ours, meta.session_id)

    stem = f"sub-{sub}_ses-{ses}_task-{task}"
    motion_dir = ses_dir / "motion"
    motion_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    scans: list[tuple[str, str]] = []
    for side, (t, x) in per_side.items():
        point = tracked_point(side, meta.placement)
        base = motion_dir / f"{stem}_tracksys-{point}"
        t0, rate = float(t[0]), rates[side]
        written.append(_write_motion_tsv(Path(f"{base}_motion.tsv"), t - t0, x))
        sidecar = motion_sidecar(meta, side, t, rate, task, description)
        written.append(_write_json(Path(f"{base}_motion.json"), sidecar))
        written.append(_write_text(Path(f"{base}_channels.tsv"), channels_table(side, meta.placement, rate)))
        written.append(_write_json(Path(f"{base}_channels.json"), channels_sidecar(meta.placement)))
        side_events = [e for e in events if e.side == side]
        if side_events:
            written.append(_write_text(Path(f"{base}_events.tsv"), events_table(side_events, t0)))
            written.append(_write_json(Path(f"{base}_events.json"), events_sidecar()))
        scans.append((f"motion/{base.name}_motion.tsv", acq_time(meta.started_at, t0)))
    _remove_stale(motion_dir, ours, {p.name for p in written})
    written.append(_update_scans(ses_dir / f"sub-{sub}_ses-{ses}_scans.tsv", scans, ours))
    written += _update_dataset_files(root, sub, description)
    return written


def _checked_samples(
    samples: dict[str, tuple[np.ndarray, np.ndarray]],
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Validated ``side -> (t float64, x float32)`` in :data:`SIDES` order, empty sides dropped."""
    for side in samples:
        if side not in SIDES:
            raise ValueError(f"unknown side {side!r} (allowed: 'left', 'right')")
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for side in (s for s in SIDES if s in samples):
        t = np.asarray(samples[side][0], dtype=np.float64)
        x = np.asarray(samples[side][1])
        if t.ndim != 1 or x.shape != (t.size, len(SAMPLE_COLUMNS)):
            raise ValueError(
                f"side {side!r}: expected t of shape (n,) and x of shape (n, 6), got {t.shape} and {x.shape}"
            )
        if not t.size:
            continue
        if x.dtype != np.float32:
            raise ValueError(f"side {side!r}: x must be float32 (got {x.dtype})")
        if not (np.isfinite(t).all() and np.isfinite(x).all()):
            raise ValueError(f"side {side!r}: times and sample values must be finite")
        latency = t - t[0]
        if latency[-1] >= _format.F9_LIMIT:
            raise ValueError(f"side {side!r}: recording longer than {_format.F9_LIMIT:g} s")
        if not (np.diff(_format.round_nano(latency)) > 0).all():
            raise ValueError(f"side {side!r}: times must increase strictly (at 1 ns resolution)")
        out[side] = (t, x)
    if not out:
        raise ValueError("nothing to export: no side has samples")
    return out


def _nominal_rate(meta: SessionMeta, side: str, t: np.ndarray) -> float:
    """Nominal sampling rate, Hz: the sensor's configured rate, else 1 / median sample interval."""
    info = meta.sensors.get(side)
    if info is not None and info.rate_hz > 0:
        return float(info.rate_hz)
    if t.size < 2:
        raise ValueError(f"side {side!r}: one sample and no meta.sensors[{side!r}].rate_hz: no sampling rate")
    return round(1.0 / float(np.median(np.diff(t))), 3)


def motion_sidecar(
    meta: SessionMeta, side: str, t: np.ndarray, rate: float, task: str,
    description: BidsDescription = BidsDescription(),
) -> dict:
    """``*_motion.json`` of one side's tracking system (``t``: its sample times, s).

    ``MissingValues`` is ``n/a``, the BIDS marker, though no value is ever missing: a lost sample is
    left out (a jump in LATENCY), and :func:`export_bids` refuses non-finite values.
    """
    duration = float(t[-1] - t[0])
    kinds = [kind for _, _, kind, _ in CHANNELS]
    sidecar: dict = {
        "TaskName": task,
        **description.recording_fields(),
        "SamplingFrequency": rate,
        "SamplingFrequencyEffective": (t.size - 1) / duration if duration > 0 else _MISSING,
        "RecordingDuration": duration,
        "TrackingSystemName": f"{side} {meta.placement} IMU",
        "TrackedPointsCount": 1,
        "MotionChannelCount": len(CHANNELS),
        **{f"{kind}ChannelCount": kinds.count(kind) for kind in CHANNEL_TYPES},
        "MissingValues": _MISSING,
        **sensor_hardware(meta, side),
    }
    sidecar[GAITMON_KEY] = {**meta.to_json(), "side": side, "first_sample_s": float(t[0])}
    return sidecar


def sensor_hardware(meta: SessionMeta, side: str) -> dict:
    """BIDS hardware keys of the sensor on ``side``, as far as gaitmon knows them.

    What the sensor told in its Device Information Service (:class:`SensorInfo` ``manufacturer`` …
    ``software``) comes first: ``Manufacturer``, ``ManufacturersModelName``, ``DeviceSerialNumber``,
    and ``SoftwareVersions`` from its firmware revision (``"<firmware> (software <software>)"``
    when it also has a software revision). What it did not tell: a live sensor's family as
    ``Manufacturer``, the model as ``ManufacturersModelName`` and its Bluetooth address as
    ``DeviceSerialNumber``, and no ``SoftwareVersions``; an emulated one (whose Device Information
    names the emulator itself) names gaitmon's emulator as the maker and gaitmon's version as the
    software. Imported CSVs say nothing about the sensor.
    """
    info = meta.sensors.get(side)
    if info is None or not info.family:
        return {}
    family = FAMILIES.get(info.family)
    model = info.label or (family.label if family else "")
    if meta.source.startswith("emulated"):
        hardware = {"Manufacturer": "gaitmon sensor emulator", "ManufacturersModelName": f"emulated {model}",
                    "SoftwareVersions": f"gaitmon {meta.software_version}"}
    else:
        hardware = {"Manufacturer": family.manufacturer if family else "", "ManufacturersModelName": model}
    hardware["DeviceSerialNumber"] = info.address
    told = {"Manufacturer": info.manufacturer, "ManufacturersModelName": info.model,
            "DeviceSerialNumber": info.serial_number, "SoftwareVersions": software_versions(info)}
    hardware.update({key: value for key, value in told.items() if value})
    return {key: value for key, value in hardware.items() if value}


def software_versions(info: SensorInfo) -> str:
    """BIDS ``SoftwareVersions`` of a sensor from its firmware and software revisions ("" if neither)."""
    if info.firmware and info.software:
        return f"{info.firmware} (software {info.software})"
    return info.firmware or info.software


def channels_table(side: str, placement: str, rate: float) -> str:
    """``*_channels.tsv`` text: one row per motion.tsv column, in :data:`CHANNEL_COLUMNS` order."""
    point = tracked_point(side, placement)
    rows = [CHANNEL_COLUMNS]
    for suffix, component, kind, units in CHANNELS:
        frame = _MISSING if kind == "LATENCY" else REFERENCE_FRAME
        rows.append(
            (f"{point}_{suffix}", component, kind, point, units, f"{side} {placement}", frame, repr(rate))
        )
    return "".join("\t".join(row) + "\n" for row in rows)


def channels_sidecar(placement: str) -> dict:
    """``*_channels.json``: the reference frame of the ACCEL/GYRO channels and the placement column."""
    return {
        "reference_frame": {
            "Description": "Frame in which the ACCEL and GYRO components are given.",
            "Levels": {
                REFERENCE_FRAME: {
                    "RotationRule": "right-hand",
                    "Description": (
                        "The IMU's own x, y, z axes as mounted: a frame fixed to the sensor that moves "
                        f"with the {placement}. Accelerations are specific force (a sensor at rest reads "
                        "+9.81 m/s^2 along the axis pointing up); angular velocities are positive "
                        "counter-clockwise about each axis. In gaitmon's canonical shank mounting x points "
                        "up along the shank, y forward and z to the athlete's left (standing); real sensors "
                        "may be strapped on with axes permuted or flipped, so no SpatialAxes are claimed."
                    ),
                }
            },
        },
        "placement": {"Description": "Body segment and side the IMU is strapped to."},
    }


def events_table(events: list[GaitEvent], t0: float) -> str:
    """``*_events.tsv`` text; onsets in s from the tracking system's first sample (session time ``t0``)."""
    lines = ["\t".join(EVENT_COLUMNS)]
    for e in events:
        value = _MISSING if math.isnan(e.value) else repr(float(e.value))
        lines.append(f"{'%.9f' % (e.t - t0)}\t0\t{e.kind}\t{e.side}\t{value}")
    return "\n".join(lines) + "\n"


def events_sidecar() -> dict:
    """``*_events.json``: the meaning of the event columns."""
    return {
        "onset": {
            "Description": "Time of the event from the first sample of this tracking system.",
            "Units": "s",
        },
        "duration": {"Description": "Always 0: gait events are instants.", "Units": "s"},
        "trial_type": {
            "LongName": "Gait event",
            "Levels": {
                "TO": "Toe-off: end of a ground contact (the foot leaves the ground).",
                "MSW": "Mid-swing: peak of the sagittal angular velocity during swing.",
                "IC": "Initial contact: start of a ground contact (the foot strikes the ground).",
            },
        },
        "side": {"Description": "Leg of the event.", "Levels": {"left": "Left leg.", "right": "Right leg."}},
        "value": {
            "Description": (
                "Sagittal angular velocity of the segment at the event, positive when the foot swings "
                "forward; for MSW the swing peak. n/a when not computed."
            ),
            "Units": "rad/s",
        },
    }


def _check_dataset_root(root: Path) -> None:
    """Refuse a non-empty folder that is not a BIDS dataset (it would be polluted, not extended)."""
    if root.exists() and not root.is_dir():
        raise InputError(root, None, "exists and is not a folder")
    if root.is_dir() and any(root.iterdir()) and not (root / "dataset_description.json").is_file():
        raise InputError(
            root, None, "folder is not empty and is not a BIDS dataset (no dataset_description.json)"
        )


def _check_session_folder(ses_dir: Path, ours: re.Pattern[str], session_id: str) -> None:
    """Refuse to write into a session folder that holds a different recording."""
    for path in sorted((ses_dir / "motion").glob("*_motion.json")):
        if not ours.fullmatch(path.name):
            continue
        block = _read_json(path).get(GAITMON_KEY)
        other = block.get("session_id") if isinstance(block, dict) else None
        if other != session_id:
            raise InputError(
                ses_dir, None,
                f"already holds another recording (session_id {other!r}, this one is {session_id!r}) "
                "for the same athlete and start second; not overwriting it",
            )


def _remove_stale(motion_dir: Path, ours: re.Pattern[str], keep: set[str]) -> None:
    """Delete files of an earlier export of this session that this export did not rewrite."""
    for path in motion_dir.iterdir():
        if ours.fullmatch(path.name) and path.name not in keep:
            path.unlink()


def _update_scans(path: Path, rows: list[tuple[str, str]], ours: re.Pattern[str]) -> Path:
    """Write ``scans.tsv``: this export's motion files plus any rows for files of others."""
    header, kept = ["filename", "acq_time"], []
    if path.exists():
        header, old = _read_tsv(path, required=("filename",))
        if "acq_time" not in header:
            header.append("acq_time")
        kept = [r for _, r in old if not ours.fullmatch(r["filename"].rsplit("/", 1)[-1])]
    new = [{"filename": name, "acq_time": when} for name, when in rows]
    return _write_text(path, _tsv_text(header, kept + new))


def _update_dataset_files(root: Path, sub: str, description: BidsDescription) -> list[Path]:
    """Create or extend ``dataset_description.json``, ``participants.tsv`` and ``README``."""
    written = []
    generated_by = {"Name": "gaitmon", "Version": __version__,
                    "Description": "Real-time gait monitor for sprinters with shank IMUs"}
    desc_path = root / "dataset_description.json"
    existing: dict | None = _read_json(desc_path) if desc_path.exists() else None
    desc = dict(existing) if existing is not None else {
        "Name": "gaitmon sprint sessions", "BIDSVersion": BIDS_VERSION, "DatasetType": "raw"}
    tools = desc.get("GeneratedBy")
    tools = tools if isinstance(tools, list) else []
    if not any(isinstance(g, dict) and g.get("Name") == "gaitmon" for g in tools):
        desc["GeneratedBy"] = [*tools, generated_by]
    desc.update(description.dataset_fields())
    if desc != existing:
        written.append(_write_json(desc_path, desc))

    part_path = root / "participants.tsv"
    header, rows = ["participant_id"], []
    if part_path.exists():
        header, old = _read_tsv(part_path, required=("participant_id",))
        rows = [r for _, r in old]
    if f"sub-{sub}" not in {r["participant_id"] for r in rows}:
        rows.append({"participant_id": f"sub-{sub}"})
        written.append(_write_text(part_path, _tsv_text(header, rows)))

    if not any(root.glob("README*")):
        written.append(_write_text(root / "README", _readme()))
    return written


def _readme() -> str:
    return (
        "Sprint sessions recorded with gaitmon (one IMU on each shank), in BIDS motion format.\n"
        "\n"
        "Each session (sub-<athlete>/ses-<UTC start>) has one tracking system per sensor\n"
        "(tracksys-<Side><Segment>, e.g. tracksys-LeftShank): the sensors sample on independent clocks.\n"
        "motion.tsv columns: LATENCY (s since the first sample of that file, whose wall-clock time is\n"
        "acq_time in scans.tsv), ACCEL x y z (m/s^2, specific force), GYRO x y z (rad/s), in the\n"
        "sensor's own axes as mounted (see *_channels.json). Gaps in the data show as jumps in LATENCY.\n"
        "Values have 9 significant digits (exact float32), LATENCY and event onsets 9 decimals (1 ns).\n"
        "*_events.tsv: gait events TO (toe-off), MSW (mid-swing), IC (initial contact) of that side.\n"
        "The 'Gaitmon' key of *_motion.json holds gaitmon's session metadata.\n"
    )


# --------------------------------------------------------------------------------------------------
# Writing files
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator:
    """Binary file handle whose content replaces ``path`` only once it is complete."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "wb") as f:
            yield f
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InputError(path, None, f"cannot write file: {exc.strerror or exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _write_text(path: Path, text: str) -> Path:
    with _replacing(path) as f:
        f.write(text.encode("utf-8"))
    return path


def _write_json(path: Path, data: dict) -> Path:
    return _write_text(path, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _write_motion_tsv(path: Path, latency: np.ndarray, x: np.ndarray) -> Path:
    """Header-less motion.tsv: LATENCY (s, 9 decimals) then the six columns of ``x`` (9 digits)."""
    with _replacing(path) as f:
        for start in range(0, latency.size, _ROWS_PER_WRITE):
            rows = slice(start, start + _ROWS_PER_WRITE)
            blocks = [_format.f9_block(latency[rows])]
            blocks += [_format.g9_block(x[rows, k]) for k in range(x.shape[1])]
            f.write(_format.join_rows(blocks, sep="\t"))
    return path


def _tsv_text(header: list[str], rows: list[dict[str, str]]) -> str:
    lines = [header] + [[r.get(c, _MISSING) for c in header] for r in rows]
    return "".join("\t".join(line) + "\n" for line in lines)


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


def read_bids(path: str | Path) -> BidsSession:
    """Read a session exported by :func:`export_bids`.

    Parameters
    ----------
    path : str or Path
        The dataset root (when it holds exactly one session), a ``sub-<label>`` folder with one
        session, or a session folder ``…/sub-<label>/ses-<label>``.

    Returns
    -------
    BidsSession
        Samples bit-identical to the exported float32 values, times within 1 ns (see the module
        docstring), events sorted.

    Raises
    ------
    gaitmon.errors.InputError
        Anything wrong, naming the file and the ``line N`` or ``key 'K'``: not a BIDS dataset,
        several sessions (pass the session folder), missing files, bad JSON, channels.tsv not
        describing the motion.tsv columns, wrong number of columns, non-numbers, non-finite
        values, LATENCY not increasing, bad events, a sidecar not written by gaitmon.
    """
    path = Path(path)
    root, ses_dir = _find_session(path)
    desc_path = root / "dataset_description.json"
    desc = _read_json(desc_path)
    for key in ("Name", "BIDSVersion"):
        if key not in desc:
            raise InputError(desc_path, f"key {key!r}", "missing (required by BIDS)")
    motion_files = sorted((ses_dir / "motion").glob("*_tracksys-*_motion.tsv"))
    if not motion_files:
        raise InputError(ses_dir, None, "no motion recording (expected motion/*_tracksys-<label>_motion.tsv)")

    files = [desc_path]
    metas: dict[str, tuple[SessionMeta, Path]] = {}
    samples: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    events: list[GaitEvent] = []
    for tsv in motion_files:
        base = str(tsv)[: -len("_motion.tsv")]
        sidecar_path, channels_path = Path(f"{base}_motion.json"), Path(f"{base}_channels.tsv")
        meta, side, t0, duration = _read_motion_sidecar(sidecar_path)
        if side in metas:
            raise InputError(
                sidecar_path, f"key '{GAITMON_KEY}.side'", f"side {side!r} also in {metas[side][1].name}"
            )
        metas[side] = (meta, sidecar_path)
        columns, n_channels = _read_channels(channels_path)
        data = _read_motion_tsv(tsv, n_channels, columns[0])
        _require_all_samples(tsv, data[:, columns[0]], duration, sidecar_path)
        with np.errstate(over="ignore"):
            x = data[:, columns[1:]].astype(np.float32)
        if not np.isfinite(x).all():
            row = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
            raise InputError(tsv, where(row + 1), "value outside the float32 range")
        samples[side] = (t0 + data[:, columns[0]], x)
        files += [tsv, sidecar_path, channels_path]
        events_path = Path(f"{base}_events.tsv")
        if events_path.exists():
            events += _read_events(events_path, t0)
            files.append(events_path)
        for described in (Path(f"{base}_channels.json"), Path(f"{base}_events.json")):
            if described.exists():
                _read_json(described)  # not needed to rebuild the session, but a damaged one is reported
                files.append(described)

    (meta, first), *others = metas.values()
    for other, other_path in others:
        if other.session_id != meta.session_id:
            raise InputError(other_path, f"key '{GAITMON_KEY}.session_id'",
                             f"{other.session_id!r} differs from {meta.session_id!r} in {first.name}")
    return BidsSession(meta, {s: samples[s] for s in SIDES if s in samples}, sorted(events), files)


def bids_sessions(path: str | Path) -> list[Path]:
    """The session folders ``path`` designates, sorted: every session with a motion recording of a
    dataset root or a ``sub-<label>`` folder, or the session folder itself.

    Raises
    ------
    gaitmon.errors.InputError
        ``path`` is not a folder of a BIDS dataset, or it holds no motion recording.
    """
    path = Path(path)
    if not path.is_dir():
        problem = "not a folder (expected a BIDS dataset)" if path.exists() else "no such folder"
        raise InputError(path, None, problem)
    if (path / "dataset_description.json").is_file():
        folders = _with_motion(path.glob("sub-*/ses-*"))
    elif path.name.startswith("ses-") and (path.parent.parent / "dataset_description.json").is_file():
        folders = [path]
    elif path.name.startswith("sub-") and (path.parent / "dataset_description.json").is_file():
        folders = _with_motion(path.glob("ses-*"))
    else:
        raise InputError(path, None, "not a BIDS motion dataset: no dataset_description.json")
    if not folders:
        raise InputError(
            path, None, "no motion recording found (expected sub-<label>/ses-<label>/motion/*_motion.tsv)"
        )
    return folders


def _find_session(path: Path) -> tuple[Path, Path]:
    """Dataset root and the one session folder that ``path`` designates."""
    folders = bids_sessions(path)
    root = folders[0].parent.parent
    if len(folders) > 1:
        listed = ", ".join(str(f.relative_to(root)) for f in folders[:3])
        listed += ", ..." if len(folders) > 3 else ""
        raise InputError(path, None, f"holds {len(folders)} sessions ({listed}); "
                                     f"pass one session folder, e.g. {folders[0]}")
    return root, folders[0]


def _with_motion(folders: Iterable[Path]) -> list[Path]:
    """The session folders among ``folders`` that hold a motion recording, sorted."""
    return sorted(f for f in folders if any((f / "motion").glob("*_motion.tsv")))


def _read_json(path: Path) -> dict:
    """A JSON object file; errors name the line."""
    try:
        text = "\n".join(read_text_lines(path))
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, where(exc.lineno), f"not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(path, None, "JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a JSON object")
    return data


def _read_motion_sidecar(path: Path) -> tuple[SessionMeta, str, float, float | None]:
    """Session metadata, side, first-sample time (s, session clock) and ``RecordingDuration`` (s, None
    when absent) from a ``*_motion.json``."""
    sidecar = _read_json(path)
    for key in ("SamplingFrequency", "TaskName"):
        if key not in sidecar:
            raise InputError(path, f"key {key!r}", "missing (required by BIDS)")
    block = sidecar.get(GAITMON_KEY)
    if not isinstance(block, dict):
        raise InputError(
            path, f"key {GAITMON_KEY!r}", "missing: not a gaitmon export (read_bids reads those only)"
        )
    side, t0 = block.get("side"), block.get("first_sample_s")
    if side not in SIDES:
        raise InputError(path, f"key '{GAITMON_KEY}.side'", f"{side!r} is not 'left' or 'right'")
    if not isinstance(t0, (int, float)) or isinstance(t0, bool) or not math.isfinite(t0):
        raise InputError(path, f"key '{GAITMON_KEY}.first_sample_s'", f"{t0!r} is not a finite number")
    try:
        meta = SessionMeta.from_json(block)
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(path, f"key {GAITMON_KEY!r}", str(exc)) from None
    duration = sidecar.get("RecordingDuration")
    if duration is not None and (not isinstance(duration, (int, float)) or isinstance(duration, bool)
                                 or not math.isfinite(duration)):
        raise InputError(path, "key 'RecordingDuration'", f"{duration!r} is not a finite number")
    return meta, side, float(t0), None if duration is None else float(duration)


def _require_all_samples(path: Path, latency: np.ndarray, duration: float | None, sidecar: Path) -> None:
    """The motion file goes on to the sidecar's ``RecordingDuration`` (s) and ends with a line end."""
    if duration is not None and abs(float(latency[-1]) - duration) > _DURATION_TOLERANCE_S:
        raise InputError(path, where(latency.size),
                         f"the last sample is at LATENCY {float(latency[-1])!r} s but RecordingDuration in "
                         f"{sidecar.name} is {duration!r} s: samples are missing (file truncated?)")
    _require_line_end(path, latency.size)


def _require_line_end(path: Path, last_line: int) -> None:
    """A file gaitmon wrote ends with a line end; without one its last line was probably cut short."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(size - 1, 0))
        last_byte = f.read(1)
    if last_byte not in (b"", b"\n"):
        raise InputError(path, where(last_line), "the last line has no line end: the file looks truncated")


def _read_tsv(path: Path, required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A small TSV with a header: ``(header, [(line number, row dict)])``; errors name the line."""
    lines = read_text_lines(path)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputError(path, None, "file is empty (expected a header line)")
    header = lines[0].split("\t")
    if len(set(header)) != len(header) or "" in header:
        raise InputError(path, where(1), "column names must be non-empty and distinct")
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(path, where(1), f"missing column(s) {names_list(missing)}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != len(header):
            problem = f"expected {len(header)} tab-separated fields as in the header, found {len(fields)}"
            raise InputError(path, where(number), problem)
        rows.append((number, dict(zip(header, fields))))
    return header, rows


def _read_channels(path: Path) -> tuple[list[int], int]:
    """motion.tsv column of LATENCY, ax, ay, az, gx, gy, gz, and the number of columns."""
    _, rows = _read_tsv(path, required=CHANNEL_COLUMNS[:5])
    _require_line_end(path, rows[-1][0] if rows else 1)
    wanted = {(kind, component): (i, units) for i, (_, component, kind, units) in enumerate(CHANNELS)}
    found: dict[int, int] = {}  # position in CHANNELS -> motion.tsv column
    for column, (number, row) in enumerate(rows):
        index, units = wanted.get((row["type"], row["component"]), (None, None))
        problem = None
        if index is None:
            problem = (f"type {row['type']!r} with component {row['component']!r} is not one gaitmon reads "
                       "(LATENCY n/a, ACCEL x/y/z, GYRO x/y/z)")
        elif index in found:
            problem = f"a second {row['type']} {row['component']} channel"
        elif row["units"] != units:
            problem = f"units {row['units']!r}, expected {units!r}"
        if problem or index is None:
            raise InputError(path, where(number), f"channel {row['name']!r}: {problem}")
        found[index] = column
    missing = [f"{kind} {component}" for (kind, component), (i, _) in wanted.items() if i not in found]
    if missing:
        raise InputError(path, None, f"missing channel(s): {', '.join(missing)}")
    return [found[i] for i in range(len(CHANNELS))], len(rows)


def _read_motion_tsv(path: Path, n_columns: int, latency_column: int) -> np.ndarray:
    """The motion.tsv numbers as float64 ``(n, n_columns)``, checked; errors name the line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": reported below
            data = np.loadtxt(path, delimiter="\t", dtype=np.float64, ndmin=2, comments=None)
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot read file: {exc.strerror or exc}") from None
    except ValueError:
        data = None  # the line-by-line scan below finds and names the problem
    if data is not None and data.size == 0:
        raise InputError(path, None, "no samples (the file is empty)")
    if (
        data is None
        or data.shape[1] != n_columns
        or not np.isfinite(data).all()
        or not (np.diff(data[:, latency_column]) > 0).all()
    ):
        _raise_first_problem(path, n_columns, latency_column)
    return data


def _raise_first_problem(path: Path, n_columns: int, latency_column: int) -> NoReturn:
    """Scan ``path`` line by line (slow; only after the fast reader failed) and raise its first problem."""
    previous = -math.inf
    lines = read_text_lines(path)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if any(rest.strip() for rest in lines[number:]):
                raise InputError(path, where(number), "empty line")
            break
        fields = line.split("\t")
        if len(fields) != n_columns:
            problem = (f"expected {n_columns} tab-separated values (one per row of the channels.tsv), "
                       f"found {len(fields)}")
            if number == len(lines) and len(fields) < n_columns:
                problem += " (the last line looks truncated)"
            raise InputError(path, where(number), problem)
        for column, text in enumerate(fields):
            value = _number(text)
            if value is None:
                raise InputError(path, where(number), f"column {column + 1}: {quote(text)} is not a number")
            if not math.isfinite(value):
                problem = f"column {column + 1}: {quote(text)} is not a finite number"
                raise InputError(path, where(number), problem)
        latency = float(fields[latency_column])
        if latency <= previous:
            problem = f"LATENCY {latency!r} does not increase (previous line: {previous!r})"
            raise InputError(path, where(number), problem)
        previous = latency
    raise InputError(path, None, "cannot parse the file as tab-separated numbers")


def _number(text: str) -> float | None:
    """``float(text)`` for plain decimal numbers, None otherwise (no ``_`` separators, no ``n/a``)."""
    if "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _read_events(path: Path, t0: float) -> list[GaitEvent]:
    """Gait events of an ``*_events.tsv`` whose onsets count from session time ``t0``."""
    _, rows = _read_tsv(path, required=EVENT_COLUMNS)
    _require_line_end(path, rows[-1][0] if rows else 1)
    events = []
    for number, row in rows:
        onset = _number(row["onset"])
        if onset is None or not math.isfinite(onset):
            raise InputError(path, where(number), f"onset {quote(row['onset'])} is not a finite number")
        if row["trial_type"] not in EVENT_KINDS:
            raise InputError(path, where(number), f"trial_type {quote(row['trial_type'])} is not one of "
                                                  f"{names_list(EVENT_KINDS)}")
        if row["side"] not in SIDES:
            raise InputError(path, where(number), f"side {quote(row['side'])} is not 'left' or 'right'")
        value = math.nan if row["value"] == _MISSING else _number(row["value"])
        if value is None:
            raise InputError(path, where(number), f"value {quote(row['value'])} is not a number or n/a")
        events.append(GaitEvent(t0 + onset, row["side"], row["trial_type"], value))
    return events
