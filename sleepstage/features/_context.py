"""Placeholder: being written."""


class TemporalContext:
    pass
