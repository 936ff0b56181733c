"""Placeholder: being written."""


def make_synthetic(*args, **kwargs):
    raise NotImplementedError
