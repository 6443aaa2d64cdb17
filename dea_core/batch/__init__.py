"""Batch jobs over whole collections: shards for cluster array jobs, resuming, per-shard summaries."""

from dea_core.batch.errors import BatchError
from dea_core.batch.runner import BatchJob, BatchResult, Processed, is_done, prepare_folder, run_batch
from dea_core.batch.shards import (
    ALL,
    Shard,
    check_distinct_stems,
    expand_inputs,
    ordered_inputs,
    parse_shard,
    shard_inputs,
)
from dea_core.batch.summary import (
    FAILED,
    OK,
    PENDING,
    SKIPPED,
    MergeReport,
    SummaryRow,
    merge_summaries,
    read_summary,
    shard_summary_path,
    write_shard_summary,
)

__all__ = [
    "ALL",
    "FAILED",
    "OK",
    "PENDING",
    "SKIPPED",
    "BatchError",
    "BatchJob",
    "BatchResult",
    "MergeReport",
    "Processed",
    "Shard",
    "SummaryRow",
    "check_distinct_stems",
    "expand_inputs",
    "is_done",
    "merge_summaries",
    "ordered_inputs",
    "parse_shard",
    "prepare_folder",
    "read_summary",
    "run_batch",
    "shard_inputs",
    "shard_summary_path",
    "write_shard_summary",
]
