"""Typed alignment errors: each says which pair failed and what the user can do about it."""

from dea_core.errors import DeaError


class AlignmentError(DeaError):
    """A source could not be aligned to the reference (the message names the pair and why)."""


class TooFewMatchesError(AlignmentError):
    """Too few features agree between source and reference to trust any homography."""


class NoOverlapError(AlignmentError):
    """A homography was found but the aligned source does not agree with the reference."""


class AlignmentCancelled(DeaError):
    """The user cancelled a running alignment; pairs not yet finished were not written."""

