"""The batch error: a shard or summary problem the user can fix (bad K/N, mixed summaries)."""

from dea_core.errors import DeaError


class BatchError(DeaError):
    """A shard specification or a set of shard summaries that cannot be used; the message says why."""
