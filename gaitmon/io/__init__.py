"""File input/output: IMU sample files, gait event lists and small result tables (CSV).

All readers raise :class:`gaitmon.errors.InputError` for bad input, with ``where="line N"``
counting the lines of the file with the header as line 1. The ``*_recovering`` readers skip bad
lines instead and say what they skipped in a :class:`Recovery`.
"""

from gaitmon.io.imu_csv import (
    IMU_COLUMNS,
    Recovery,
    read_imu_csv,
    read_imu_csv_recovering,
    write_imu_csv,
)
from gaitmon.io.tables import (
    EVENT_COLUMNS,
    read_events_csv,
    read_events_csv_recovering,
    read_table_csv,
    write_events_csv,
    write_table_csv,
)

__all__ = [
    "EVENT_COLUMNS",
    "IMU_COLUMNS",
    "Recovery",
    "read_events_csv",
    "read_events_csv_recovering",
    "read_imu_csv",
    "read_imu_csv_recovering",
    "read_table_csv",
    "write_events_csv",
    "write_imu_csv",
    "write_table_csv",
]
