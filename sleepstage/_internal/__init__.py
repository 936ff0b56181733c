"""Helpers shared by the subpackages: input checks, recording segments, progress, warnings.

Nothing here is public API; every subpackage may import from it, and it imports nothing
from them.
"""
