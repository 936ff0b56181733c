"""Placeholder: being written."""


class HMMSmoother:
    pass
