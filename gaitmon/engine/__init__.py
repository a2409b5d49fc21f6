"""The Qt-free runtime: live acquisition and recording (``acquisition``, ``runtime``), loading and
analysing recordings (``load``, ``analyze``) and what the dashboard shows (``model``)."""
