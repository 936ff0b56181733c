"""Placeholder: being written."""


class EMGFeatures:
    pass
