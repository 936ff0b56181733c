"""Placeholder: being written."""


class RecordingScaler:
    pass
