"""Where samples come from: live BLE sensors (``ble``), what each sensor family expects
(``families``), and emulated sensors behind a bleak backend (``virtual``)."""
