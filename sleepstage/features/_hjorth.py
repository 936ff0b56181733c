"""Placeholder: being written."""


class HjorthFeatures:
    pass
