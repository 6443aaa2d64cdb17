"""Typed errors the user can act on: each message names the file and the problem."""


class DeaError(Exception):
    """Base of every error the command line and the windows show to the user as a message."""


class LabelFileError(DeaError):
    """A LabelMe JSON file cannot be read or written (broken JSON, bad shapes, missing image)."""


class ImageLoadError(DeaError):
    """An image cannot be read: missing, unreadable, corrupt, or too large to decode safely."""


class MatchCancelled(DeaError):
    """The user cancelled a running match; nothing was written."""


class MatchOptionsError(DeaError):
    """A template box or a search option that cannot be used (empty box, bad scale range)."""
