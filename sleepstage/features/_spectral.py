"""Placeholder: being written."""

DEFAULT_BANDS = {}


class SpectralFeatures:
    pass
