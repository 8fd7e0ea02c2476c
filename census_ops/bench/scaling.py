"""Worklist scaling (issue item 5): read units and time to generate the worklists of one
village with a 100-household backlog, when the table holds 10,000 households and when it
holds 1,000,000 (or as many as this machine loads in the time allowed): the read units
must be the same, because generation reads the sparse `needs_visit` index by village.

The village, its register and its roster go in through the normal importers. The other
households are written straight into DynamoDB Local with BatchWriteItem from several
processes (the importer writes ~500-1,200 households/s): the META and REGISTER items of
real register households as shared/store serializes them, under other KKs and villages, all
pending, so every one of them is in the `needs_visit` index too, in its own village."""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from census_ops.bench.harness import TABLE, configure_process, lambda_context
from census_ops.bench.operations import GENERATE
from census_ops.dynamodb_local import DynamoDBLocal
from census_ops.events import route_event
from shared.store import schema

BACKLOG = 100
CHUNK = 2_000  # households per task a loader process takes
FILLER_PROVINCE = "31"  # DKI Jakarta: far from the target village's partitions


def filler_keys(i: int) -> tuple[str, str]:
    """KK and SLS code of the i-th filler household: 100 households per SLS, one SLS per
    village, 999 villages per district (codes valid at every level: no all-zero segment)."""
    village = i // 100
    kk = f"{FILLER_PROVINCE}71{i:012d}"
    sls = f"{FILLER_PROVINCE}71{10 + village // 999:03d}{1 + village % 999:03d}0001"
    return kk, sls


def filler_items(
    templates: list[tuple[dict[str, Any], dict[str, Any]]], start: int, count: int
) -> Iterator[dict[str, Any]]:
    """META and REGISTER items of filler households start..start+count, from the serialized
    items of real households (`templates`), with only keys and area codes changed."""
    for i in range(start, start + count):
        meta, register = templates[i % len(templates)]
        kk, sls = filler_keys(i)
        visit_area, visit_order = schema.visit_keys(sls, kk)
        pk = {"S": schema.household_pk(kk)}
        yield {
            **meta,
            "pk": pk,
            "sls_code": {"S": sls},
            "visit_area": {"S": visit_area},
            "visit_order": {"S": visit_order},
        }
        yield {**register, "pk": pk, "sls_code": {"S": sls}}


def _load_chunk(args: tuple[str, str, list[tuple[dict[str, Any], dict[str, Any]]], int, int]) -> int:
    """A loader process's task: BatchWriteItem 25 items at a time, retrying unprocessed ones."""
    import boto3

    endpoint, table, templates, start, count = args
    session = boto3.session.Session()  # dummy keys from the environment (configure_process)
    client = session.client("dynamodb", endpoint_url=endpoint, region_name="ap-southeast-3")
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while pending:
            answer = client.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
        batch.clear()

    for item in filler_items(templates, start, count):
        batch.append(item)
        if len(batch) == 25:
            flush()
    if batch:
        flush()
    return count


class Loader:
    """Fills the table up to a number of households with processes of its own."""

    def __init__(self, endpoint: str, templates: list[tuple[dict[str, Any], dict[str, Any]]], workers: int) -> None:
        self.endpoint, self.templates, self.workers = endpoint, templates, workers
        self.loaded = 0

    def fill_to(self, filler: int, budget_seconds: float, desc: str) -> tuple[int, float]:
        """Load filler households until `filler` exist or the budget is spent; returns
        (households loaded in total, seconds spent)."""
        from tqdm import tqdm

        started = time.monotonic()
        tasks = []
        position = self.loaded
        while position < filler:
            count = min(CHUNK, filler - position)
            tasks.append((self.endpoint, TABLE, self.templates, position, count))
            position += count
        context = multiprocessing.get_context("spawn")
        with (
            tqdm(total=filler - self.loaded, desc=desc, unit="households", file=sys.stderr, dynamic_ncols=True) as bar,
            context.Pool(self.workers) as pool,
        ):
            pending = iter(tasks)
            running = [pool.apply_async(_load_chunk, (task,)) for task in _take(pending, 2 * self.workers)]
            while running:
                done = running.pop(0).get()
                self.loaded += done
                bar.update(done)
                if time.monotonic() - started < budget_seconds:
                    running += [pool.apply_async(_load_chunk, (task,)) for task in _take(pending, 1)]
        return self.loaded, time.monotonic() - started


def _take(iterator: Iterator[Any], n: int) -> list[Any]:
    out = []
    for _ in range(n):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out


def _templates(households: list[Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    from census_ops.importer import household_items

    pairs = []
    for household in households:
        register, state = household_items(household, "bench-filler")
        pairs.append((state.serialize(), register.serialize()))
    return pairs


def village_register(folder: Path) -> list[Any]:
    """The measured village: a demo register of BACKLOG households in one SLS (seed 5)."""
    from census_ops.register import read_register, write_demo_register

    register = folder / "register.csv"
    write_demo_register(register, BACKLOG, seed=5)
    with register.open(newline="", encoding="utf-8") as stream:
        return [h for h in read_register(stream) if not isinstance(h, list)]


def household_bytes() -> float:
    """Average bytes of a household's META + REGISTER items as the filler writes them."""
    from census_ops.bench.units import item_size

    with tempfile.TemporaryDirectory(prefix="census-scaling-") as folder:
        templates = _templates(village_register(Path(folder)))
    return sum(item_size(meta) + item_size(register) for meta, register in templates) / len(templates)


def _clear_generation(client: Any, village: str) -> None:
    """Remove the village's assignments and generation record, so each measurement is a first generation."""
    keys = []
    for page in client.get_paginator("query").paginate(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": schema.assignments_pk(village)}},
        ProjectionExpression="pk, sk",
    ):
        keys += page["Items"]
    generation_pk, generation_sk = schema.generation_key(village)
    keys.append({"pk": {"S": generation_pk}, "sk": {"S": generation_sk}})
    for key in keys:
        client.delete_item(TableName=TABLE, Key=key)


def _measure(client: Any, village: str, supervisor: dict[str, str], repeats: int) -> dict[str, Any]:
    """Time `repeats` first generations with nothing hooked in, then one more with the
    request log on for the units (its item images would distort the time)."""
    import json

    from census_ops.bench.recorder import RequestLog, template_indexes
    from functions.worklists.app import lambda_handler

    event = route_event("POST", GENERATE, {"area_code": village}, claims=supervisor)
    times = []
    for _ in range(repeats):
        _clear_generation(client, village)
        started = time.perf_counter()
        answer = lambda_handler(event, lambda_context())
        times.append(time.perf_counter() - started)
        if answer["statusCode"] != 201:
            raise RuntimeError(f"generation failed: {answer['body']}")
    _clear_generation(client, village)
    with RequestLog(raw=client, table=TABLE, indexes=template_indexes()) as log:
        answer = lambda_handler(event, lambda_context())
    return {
        "backlog": json.loads(answer["body"])["households"],
        "read_units": log.read_units,
        "rule_read_units": log.bill().read_units,
        "write_units": log.write_units,
        "requests": len(log.requests),
        "seconds_min": min(times),
        "seconds_median": statistics.median(times),
    }


def run(
    sizes: tuple[int, ...] = (10_000, 1_000_000), budget_seconds: float = 600.0, repeats: int = 3
) -> dict[str, Any]:
    """Measure at each table size in turn (loading more filler between), in one run."""
    from census_ops.importer import import_register, import_roster
    from census_ops.roster import write_demo_roster
    from census_ops.template import create_table

    scratch = tempfile.TemporaryDirectory(prefix="census-scaling-")
    folder = Path(scratch.name)
    roster = folder / "roster.csv"
    village_households = village_register(folder)
    register = folder / "register.csv"
    sls_codes = sorted({h.sls_code for h in village_households})
    write_demo_roster(roster, sls_codes, officers=4)
    villages = sorted({s[:10] for s in sls_codes})
    results: list[dict[str, Any]] = []
    workers = max(2, (os.cpu_count() or 2) * 2)
    with scratch, DynamoDBLocal(in_memory=True) as engine:
        configure_process(engine.endpoint_url)
        client = engine.client()
        create_table(client, TABLE)
        import_register(register, fresh_table=True)
        import_roster(roster)
        supervisor = {"cognito:username": f"SPV-{sls_codes[0][:4]}", "cognito:groups": "supervisor"}
        loader = Loader(engine.endpoint_url, _templates(village_households), workers)
        for size in sizes:
            target = max(0, size - len(village_households))
            loaded, seconds = loader.fill_to(target, budget_seconds, f"table to {size:,} households")
            total = loaded + len(village_households)
            measured = _measure(client, villages[0], supervisor, repeats)
            results.append(
                {
                    "households_asked": size,
                    "households": total,
                    "reached": total >= size,
                    "load_seconds": seconds,
                    "load_rate": (loaded and loaded / seconds) if seconds else 0.0,
                    **measured,
                }
            )
    return {
        "village": villages[0],
        "loader_processes": workers,
        "sizes": results,
        "same_read_units": len({r["read_units"] for r in results}) == 1,
    }
