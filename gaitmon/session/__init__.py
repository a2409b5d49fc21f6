"""Sessions on disk: the recorded journal and its metadata, replay, exports and the athlete history."""
