"""The witmotion sensor family: ``protocol`` (notification bytes ↔ numbers) and ``family`` (GATT set-up)."""
