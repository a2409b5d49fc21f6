"""The live path after the radio, no I/O: time stamps (``timing``), the sagittal axis
(``orientation``), samples → events per leg (``pipeline``) and a session's sensors together (``live``)."""
