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
import uuid
from dataclasses import asdict, dataclass, field

from gaitmon._version import __version__

#: ``format`` value of a gaitmon ``session.json``, and the layout version this code writes.
FORMAT = "gaitmon-session"
FORMAT_VERSION = 1


def utc_now_iso() -> str:
    """The current wall-clock time as ISO 8601 UTC with microseconds."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


@dataclass
class SensorInfo:
    """One sensor of a session (role ``left``/``right``)."""

    role: str
    identifier: str = ""  # what the user asked for: address or advertised name
    address: str = ""
    family: str = ""  # key of gaitmon.sensors.FAMILIES, or "" for imported data
    label: str = ""  # human name of the model, e.g. "Polar Verity Sense"
    rate_hz: float = 0.0


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
        """Inverse of :meth:`to_json`; raises ValueError/TypeError/KeyError on foreign content."""
        if data.get("format") != FORMAT:
            raise ValueError(f"not a gaitmon session (format is {data.get('format')!r})")
        if int(data.get("format_version", 0)) > FORMAT_VERSION:
            raise ValueError(f"session format version {data['format_version']} is newer than this gaitmon "
                             f"understands ({FORMAT_VERSION}); upgrade gaitmon")
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["sensors"] = {role: SensorInfo(**info) for role, info in dict(data.get("sensors", {})).items()}
        meta = cls(**fields)
        if not isinstance(meta.session_id, str) or not meta.session_id:
            raise ValueError("session_id is missing")
        return meta

    @property
    def started(self) -> _dt.datetime:
        """``started_at`` as an aware datetime."""
        return _dt.datetime.fromisoformat(self.started_at)
