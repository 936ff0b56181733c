"""Placeholder: being written."""


class EpochFeatures:
    pass
