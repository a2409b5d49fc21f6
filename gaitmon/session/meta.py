"""What is known about a session besides its samples: who, where, with which sensors, when.

Stored as ``session.json`` in a session folder (see :mod:`gaitmon.session.folder`), exported into
the BIDS sidecars, and indexed in the athlete history. Plain data, JSON round trip.

Times
-----
``started_at`` is the wall-clock start (ISO 8601, UTC, microseconds). Every time inside a session
(samples, events, steps) is seconds on the **session clock**: the host's monotonic clock minus its
value at ``started_at``, so a session starts at about 0 s.
"""

from __future__ import annotations

import datetime as _dt
import math
import uuid
from dataclasses import asdict, dataclass, field, fields

from gaitmon._version import __version__
from gaitmon.consts import PLACEMENTS

#: ``format`` value of a gaitmon ``session.json``, and the layout version this code writes.
FORMAT = "gaitmon-session"
FORMAT_VERSION = 1
#: Highest sensor rate a session file may claim (Hz); IMUs on BLE stream a few kHz at most.
MAX_RATE_HZ = 100_000.0


def utc_now_iso() -> str:
    """The current wall-clock time as ISO 8601 UTC with microseconds."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


@dataclass
class SensorInfo:
    """One sensor of a session (role ``left``/``right``).

    ``manufacturer`` … ``software`` are what the sensor said about itself in its Device Information
    Service (:class:`gaitmon.sensors.family.DeviceInfo`), ``""`` when it did not tell (and in
    sessions recorded before gaitmon read it).
    """

    role: str
    identifier: str = ""  # what the user asked for: address or advertised name
    address: str = ""
    family: str = ""  # key of gaitmon.sensors.FAMILIES, or "" for imported data
    label: str = ""  # human name of the model, e.g. "Polar Verity Sense"
    rate_hz: float = 0.0
    manufacturer: str = ""
    model: str = ""
    serial_number: str = ""
    firmware: str = ""
    hardware: str = ""
    software: str = ""


@dataclass
class SessionMeta:
    """Metadata of one session.

    Attributes
    ----------
    session_id : str
        Unique id (32 hex digits); the athlete history's key, so re-importing is idempotent.
    athlete : str
    placement : {"shank", "foot"}
    started_at : str
        Wall-clock start, ISO 8601 UTC.
    source : str
        ``"live"``, ``"emulated:<family>"``, ``"csv"`` or ``"bids"``.
    sensors : dict
        role → :class:`SensorInfo`.
    software_version : str
        gaitmon version that recorded (or imported) the session.
    ended_at : str or None
        Set when the recording was closed properly; None after a crash.
    duration_s : float or None
        Session-clock time of the last record, when known.
    """

    athlete: str = ""
    placement: str = "shank"
    started_at: str = field(default_factory=utc_now_iso)
    source: str = "live"
    sensors: dict[str, SensorInfo] = field(default_factory=dict)
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    software_version: str = __version__
    ended_at: str | None = None
    duration_s: float | None = None
    notes: str = ""

    def to_json(self) -> dict:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict) -> SessionMeta:
        """Inverse of :meth:`to_json`. Every field is checked: ValueError naming the field (e.g.
        ``field 'duration_s': 'long' is not a number``) on foreign or impossible content."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        if data.get("format") != FORMAT:
            raise ValueError(f"not a gaitmon session (format is {_short(data.get('format'))})")
        version = data.get("format_version", 0)
        if not _is_number(version) or version != int(version):
            raise ValueError(f"field 'format_version': {_short(version)} is not a whole number")
        if version > FORMAT_VERSION:
            raise ValueError(f"session format version {int(version)} is newer than this gaitmon "
                             f"understands ({FORMAT_VERSION}); upgrade gaitmon")
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "sensors"}
        for name in ("athlete", "placement", "started_at", "source", "session_id", "software_version", "notes"):
            if name in values:
                _text(values[name], name)
        if not values.get("session_id"):
            raise ValueError("field 'session_id': missing")
        if values.get("placement", "shank") not in PLACEMENTS:
            raise ValueError(f"field 'placement': {_short(values['placement'])} is not one of {', '.join(PLACEMENTS)}")
        for name in ("started_at", "ended_at"):
            if values.get(name) is not None:
                _timestamp(values[name], name)
        if values.get("duration_s") is not None:
            values["duration_s"] = _number(values["duration_s"], "duration_s", 0.0, math.inf)
        sensors = data.get("sensors", {})
        if not isinstance(sensors, dict):
            raise ValueError(f"field 'sensors': expected an object (role → sensor), got {_short(sensors)}")
        return cls(**values, sensors={_text(role, "sensors"): _sensor(info, f"sensors.{role}")
                                      for role, info in sensors.items()})

    @property
    def started(self) -> _dt.datetime:
        """``started_at`` as an aware datetime."""
        return _dt.datetime.fromisoformat(self.started_at)


def _short(value) -> str:
    """``repr`` of a value read from a file, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(value, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"field {name!r}: {_short(value)} is not text")
    return value


def _number(value, name: str, low: float, high: float) -> float:
    """A finite number in [low, high)."""
    if not _is_number(value):
        raise ValueError(f"field {name!r}: {_short(value)} is not a finite number")
    if not low <= value < high:
        raise ValueError(f"field {name!r}: {value!r} is out of range (from {low:g} up to {high:g})")
    return float(value)


def _timestamp(value, name: str) -> None:
    _text(value, name)
    try:
        _dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"field {name!r}: {_short(value)} is not an ISO 8601 date and time") from None


def _sensor(info, name: str) -> SensorInfo:
    if not isinstance(info, dict):
        raise ValueError(f"field {name!r}: expected an object, got {_short(info)}")
    known = {f.name for f in fields(SensorInfo)}
    values = {k: v for k, v in info.items() if k in known}
    for key, value in values.items():
        if key == "rate_hz":
            values[key] = _number(value, f"{name}.rate_hz", 0.0, MAX_RATE_HZ)
        else:
            _text(value, f"{name}.{key}")
    return SensorInfo(**{"role": name.split(".", 1)[1], **values})
