"""Placeholder: being written."""


def load_sleep_edf(*args, **kwargs):
    raise NotImplementedError
