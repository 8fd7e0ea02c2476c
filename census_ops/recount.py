"""`census recount [--area CODE] [--fix]`: recompute the progress counters from the
households and print the drift per SLS (stored minus recounted); `--fix` rewrites the
drifting counters. Creations count in their own transaction and every later status change
from the table's stream, each once (docs/decisions/0019), so once the stream is drained the
drift should be 0: this is the check after a fault, a restore, a soak or a failed stream
batch (`census stream-replay` first). Changes still in the stream show as drift for a second.

    census recount --local                          # the local service's table (stopped)
    census recount --endpoint-url http://127.0.0.1:8000 --table census-local --area 1671
    TABLE_NAME=census-restored census recount --fix # AWS, with your credentials

It costs one Scan of the whole table (the META items, first versions and counters are
filtered from it; an area narrows the output, not the read units) and one Query per
regency. A counter that changes while the table is scanned (a submission landing) is
reported as changed and never overwritten: run it again.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from census_ops.runtime import add_target_arguments, progress_bar, target_store
from shared.areas import validate_area_code
from shared.nik import InvalidIdentifier
from shared.progress import drift, recount
from shared.store.recount import count_table, overwrite_counters, stored_counters

SHOWN = 50  # drifting SLSs printed one by one; the rest are summed


@dataclass
class Recount:
    households: int = 0
    sls: int = 0
    responded: int = 0  # households with at least one version
    receipts: int = 0  # receipt items in the table
    recounted: dict[str, dict[str, int]] = field(default_factory=dict)
    stored: dict[str, dict[str, int]] = field(default_factory=dict)
    drift: dict[str, dict[str, int]] = field(default_factory=dict)  # per SLS: stored - recounted
    changed: list[str] = field(default_factory=list)  # counters that moved during the scan
    fixed: list[str] = field(default_factory=list)

    @property
    def total_drift(self) -> int:
        """The sum of |stored - recounted| over every counter of every SLS."""
        return sum(abs(value) for row in self.drift.values() for value in row.values())


def recount_table(
    area: str | None = None, *, fix: bool = False, progress: Callable[[int], object] | None = None
) -> Recount:
    """Scan, recount, compare with the counters read again after the scan; with `fix`,
    rewrite the counters that drift and did not move during the scan."""
    table = count_table(area, progress=progress)
    recounted = recount(table.households)
    sls_codes = set(recounted) | set(table.counters)
    now = stored_counters(sls_codes)
    result = Recount(
        len(table.households), len(sls_codes), recounted=recounted, stored=now, drift=drift(now, recounted)
    )
    result.responded, result.receipts = table.responded, table.receipts
    result.changed = sorted(s for s in sls_codes if table.counters.get(s) != now.get(s))
    if fix:
        for sls in sorted(result.drift):
            if sls in result.changed:
                continue
            empty = dict.fromkeys(recounted.get(sls, {}), 0)
            if overwrite_counters(sls, now.get(sls), recounted.get(sls, empty)):
                result.fixed.append(sls)
            else:
                result.changed.append(sls)
    return result


def report(result: Recount) -> str:
    lines = [
        f"{result.households} households in {result.sls} SLS recounted; counter drift: {result.total_drift}",
        f"{result.responded} households have responded; the table holds {result.receipts} receipts",
    ]
    for sls, row in list(sorted(result.drift.items()))[:SHOWN]:
        shown = ", ".join(f"{name} {value:+d}" for name, value in sorted(row.items()))
        state = " (fixed)" if sls in result.fixed else ""
        if sls in result.changed:
            state = " (changed during the scan: run again)"
        lines.append(f"  {sls}: {shown}{state}")
    if len(result.drift) > SHOWN:
        lines.append(f"  ... and {len(result.drift) - SHOWN} more SLS")
    if result.fixed:
        lines.append(f"fixed {len(result.fixed)} SLS counters")
    return "\n".join(lines)


def cmd_recount(args: argparse.Namespace) -> int:
    area = args.area
    if area is not None:
        try:
            validate_area_code(area)
        except InvalidIdentifier as error:
            print(f"census recount: --area {area}: {error.message}", file=sys.stderr)
            return 2
    with target_store(args), progress_bar(None, "items", "scan") as bar:
        result = recount_table(area, fix=args.fix, progress=bar.update)
    print(report(result))
    unfixed = set(result.drift) - set(result.fixed)
    return 1 if unfixed else 0


def cmd_stream_replay(args: argparse.Namespace) -> int:
    """Replay the stream consumer's failed batches from its on-failure queue."""
    import boto3

    from census_ops.stream_poller import replay_failed_batches
    from functions.progress_stream.app import lambda_handler
    from shared.settings import settings

    with target_store(args):
        region = settings().region
        replayed, handed, left = replay_failed_batches(
            boto3.client("sqs", region_name=region),
            boto3.client("dynamodbstreams", region_name=region, endpoint_url=args.endpoint_url),
            args.queue_url,
            lambda_handler,
        )
    print(f"{replayed} failed batches replayed, {handed} records handed to the consumer (each counted once)")
    if left:
        print(
            f"{left} batches not replayed: older than the consumer's checkpoints (over 70 minutes) or"
            " trimmed from the stream; run census recount --fix"
        )
        return 1
    print("then run census recount (--fix): it repairs what a replay cannot (records past 24 h, changed since)")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Adds `census recount` and `census stream-replay`."""
    replay = commands.add_parser(
        "stream-replay", help="replay the progress stream consumer's failed batches (its SQS failure queue)"
    )
    replay.add_argument("--queue-url", required=True, help="the ProgressStreamFailures queue's URL")
    add_target_arguments(replay)
    replay.set_defaults(func=cmd_stream_replay)
    parser = commands.add_parser("recount", help="recompute the progress counters from the households; print the drift")
    parser.add_argument("--area", help="only this area's SLSs (a province, regency, district, village or SLS code)")
    parser.add_argument("--fix", action="store_true", help="rewrite the counters that drift")
    add_target_arguments(parser)
    parser.set_defaults(func=cmd_recount)
