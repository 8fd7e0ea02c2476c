"""What every benchmark needs: a table on its own DynamoDB Local holding a demo register
(with households of 1, 5 and 15 members) and roster, this process configured as a Lambda
container would be, and API Gateway events for the handlers."""

from __future__ import annotations

import csv
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from census_ops import events
from census_ops.dynamodb_local import DynamoDBLocal

TABLE = "census-bench"


def lambda_context() -> Any:
    return events.lambda_context("bench", "bench")


def configure_process(endpoint: str, table: str = TABLE) -> None:
    """Environment of a Lambda container, quiet: no EMF metrics and no INFO log lines on the
    console (Powertools still builds them; only the printing is skipped)."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    # Residents' sessions (the draft save, the household sequence): a key for this run only.
    os.environ.setdefault("SESSION_SIGNING_KEY", secrets.token_hex(32))
    from census_ops.runtime import configure_environment

    configure_environment(table, endpoint)


def _extended_household_rows(rows: list[dict[str, str]], size: int, kk_serial: int) -> list[dict[str, str]]:
    """A household of `size` members built on `rows` (a real demo household of 2+): its head
    and spouse, then other relatives; new KK and NIKs, each valid for its sex and birth date."""
    from shared.nik import make_kk, make_nik

    head = rows[0]
    region = head["nik"][:6]
    kk = make_kk(region, date(2015, 3, 1), kk_serial)
    out = []
    for i in range(size):
        if i < 2:
            row = rows[i]
            born = date.fromisoformat(row["birth_date"])
            out.append({**row, "kk": kk, "nik": make_nik(region, row["sex"], born, 9000 + kk_serial % 100 * 20 + i)})
            continue
        sex = "male" if i % 2 else "female"
        born = date(1950 + i, 1 + i % 12, 1 + i)
        out.append(
            {
                **head,
                "kk": kk,
                "nik": make_nik(region, sex, born, 9000 + kk_serial % 100 * 20 + i),
                "name": f"Kerabat {chr(65 + i)} Santoso",
                "sex": sex,
                "birth_date": born.isoformat(),
                "relationship": "other_relative",
            }
        )
    return out


def write_bench_register(path: Path, households: int, *, seed: int = 14) -> None:
    """A demo register plus one household each of 1, 5 and 15 members (the demo tops out at 9)."""
    from census_ops.register import REGISTER_COLUMNS, generate_demo_register

    by_kk: dict[str, list[dict[str, str]]] = {}
    for row in generate_demo_register(households, seed=seed):
        by_kk.setdefault(row["kk"], []).append(row)
    sizes = {len(rows) for rows in by_kk.values()}
    base = next(rows for rows in by_kk.values() if len(rows) >= 2)
    for serial, size in enumerate((1, 5, 15), start=9001):
        if size not in sizes:
            extra = _extended_household_rows(base, size, serial)
            by_kk[extra[0]["kk"]] = extra
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=REGISTER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for rows in by_kk.values():
            writer.writerows(rows)


@dataclass
class Harness:
    engine: DynamoDBLocal
    folder: Path
    households: list[Any]  # RegisterHousehold

    def raw_client(self) -> Any:
        return self.engine.client()

    def household_of_size(self, size: int, skip: int = 0) -> Any:
        return [h for h in self.households if len(h.members) == size][skip]


@contextmanager
def harness(households: int, *, officers: int = 2) -> Iterator[Harness]:
    """A fresh in-memory DynamoDB Local with the table, a register and a roster imported."""
    from census_ops.importer import import_register, import_roster
    from census_ops.register import read_register
    from census_ops.roster import write_demo_roster
    from census_ops.template import create_table

    scratch = tempfile.TemporaryDirectory(prefix="census-bench-")
    folder = Path(scratch.name)
    register, roster = folder / "register.csv", folder / "roster.csv"
    write_bench_register(register, households)
    with register.open(newline="", encoding="utf-8") as stream:
        found = [h for h in read_register(stream) if not isinstance(h, list)]
    write_demo_roster(roster, sorted({h.sls_code for h in found}), officers=officers)
    with scratch, DynamoDBLocal(in_memory=True) as engine:
        configure_process(engine.endpoint_url)
        create_table(engine.client(), TABLE)
        from shared import store
        from shared.settings import settings

        # The set-up is not measured: patient timeouts, so a busy machine does not fail it.
        store.bind(settings(), read_timeout_seconds=30.0)
        import_register(register, fresh_table=True)
        import_roster(roster)
        store.bind(settings())  # the production client settings for what is measured
        yield Harness(engine, folder, found)
