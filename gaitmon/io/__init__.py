"""File input/output: IMU sample files, gait event lists and small result tables (CSV).

All readers raise :class:`gaitmon.errors.InputError` for bad input, with ``where="line N"``
counting the lines of the file with the header as line 1.
"""

from gaitmon.io.imu_csv import IMU_COLUMNS, read_imu_csv, write_imu_csv
from gaitmon.io.tables import (
    EVENT_COLUMNS,
    read_events_csv,
    read_table_csv,
    write_events_csv,
    write_table_csv,
)

__all__ = [
    "EVENT_COLUMNS",
    "IMU_COLUMNS",
    "read_events_csv",
    "read_imu_csv",
    "read_table_csv",
    "write_events_csv",
    "write_imu_csv",
    "write_table_csv",
]
