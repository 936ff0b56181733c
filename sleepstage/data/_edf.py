"""Placeholder: being written."""


def read_edf(*args, **kwargs):
    raise NotImplementedError
