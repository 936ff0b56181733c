"""Placeholder: being written."""


class TimeFeatures:
    pass
