"""Data access of the census outputs: published tables and review flags. A small module of
its own while shared/storage.py is being split into shared/store/ (it moves there as
`store/outputs.py`); it uses storage's endpoint, timeouts, retries and fault mapping.

    pk=TABLES#<area>  sk=<table>                        a published (suppressed) table of one
                                                        area: JSON body, reference date
    pk=HH#<kk>        sk=FLAG#<reason>#<other>#v<ver>   a review flag the duplicate check
                                                        raised on version <ver> (who, when,
                                                        the other household); sorts before
                                                        META, outside the intake Query

Raw DynamoDB requests through botocore: the flag's transaction moves META, the receipt and
the SLS counter together, conditional on what the check saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shared import storage

TABLES_PREFIX = "TABLES#"
FLAG_PREFIX = "FLAG#"


def tables_pk(area: str) -> str:
    return f"{TABLES_PREFIX}{area or 'NATIONAL'}"


def flag_sk(reason: str, other: str, version: int) -> str:
    return f"{FLAG_PREFIX}{reason}#{other}#v{version:010d}"


def _client() -> Any:
    meta = storage.CensusItem.Meta  # where bind() pointed the models
    return _client_for(meta.region, meta.host, meta.connect_timeout_seconds, meta.read_timeout_seconds)


@lru_cache(maxsize=4)
def _client_for(region: str, host: str | None, connect: float, read: float) -> Any:
    config = Config(connect_timeout=connect, read_timeout=read, retries=dict(storage.RETRIES))
    return boto3.client("dynamodb", region_name=region, endpoint_url=host, config=config)


def _table() -> str:
    return str(storage.CensusItem.Meta.table_name)


def _call(method: str, **request: Any) -> Any:
    try:
        return getattr(_client(), method)(**request)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
            raise  # save_flag reads the reasons
        _raise_busy_or(exc)
    except Exception as exc:
        _raise_busy_or(exc)


def _raise_busy_or(exc: Exception) -> None:
    busy = storage.store_busy(exc)
    if busy is not None:
        raise busy from exc
    raise exc


# ---------------------------------------------------------------- published tables


@dataclass(frozen=True)
class PublishedTable:
    area: str
    table: str
    body: str  # JSON: the table's rows, suppressed
    reference_date: str
    published_at: str


def save_published(tables: Sequence[PublishedTable]) -> None:
    for start in range(0, len(tables), 25):
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": tables_pk(t.area)},
                        "sk": {"S": t.table},
                        "kind": {"S": "published_table"},
                        "body": {"S": t.body},
                        "reference_date": {"S": t.reference_date},
                        "published_at": {"S": t.published_at},
                    }
                }
            }
            for t in tables[start : start + 25]
        ]
        pending: dict[str, Any] = {_table(): requests}
        for _ in range(8):
            answer = _call("batch_write_item", RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
            if not pending:
                break
        if pending:
            raise storage.StoreBusy(retry_after=2)


def get_published(area: str, table: str) -> PublishedTable | None:
    answer = _call("get_item", TableName=_table(), Key={"pk": {"S": tables_pk(area)}, "sk": {"S": table}})
    item = answer.get("Item")
    if not item:
        return None
    return PublishedTable(area, table, item["body"]["S"], item["reference_date"]["S"], item["published_at"]["S"])


# ---------------------------------------------------------------- review flags


@dataclass(frozen=True)
class ReviewFlag:
    kk: str
    reason: str
    other_kk: str
    version: int  # the household version the check saw
    nik: str
    flagged_at: str
    flagged_by: str


@dataclass(frozen=True)
class FlagChange:
    """A flag, and the status move it makes (none when `status` == `expected_status`)."""

    flag: ReviewFlag
    sls_code: str
    expected_status: str
    status: str
    visit_keys: tuple[str, str] | None
    receipt_code: str | None
    progress: dict[str, int]


class FlagExists(Exception):
    """This flag (reason, other household, version) was raised before."""


class HouseholdChanged(Exception):
    """META is no longer at the version and status the check saw."""


def save_flag(change: FlagChange) -> None:
    """One transaction: the flag (if new), META's status (if the version and status are
    still the ones seen), the receipt's status and the SLS counters."""
    flag = change.flag
    pk = storage.household_pk(flag.kk)
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": _table(),
                "Item": {
                    "pk": {"S": pk},
                    "sk": {"S": flag_sk(flag.reason, flag.other_kk, flag.version)},
                    "kind": {"S": "review_flag"},
                    "reason": {"S": flag.reason},
                    "other_kk": {"S": flag.other_kk},
                    "version": {"N": str(flag.version)},
                    "nik": {"S": flag.nik},
                    "flagged_at": {"S": flag.flagged_at},
                    "flagged_by": {"S": flag.flagged_by},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    ]
    meta_key = {"pk": {"S": pk}, "sk": {"S": storage.META_SK}}
    seen = {":version": {"N": str(flag.version)}, ":expected": {"S": change.expected_status}}
    condition = "#version = :version AND #status = :expected"
    names = {"#version": "version", "#status": "status"}
    if change.status == change.expected_status:
        items.append(
            {
                "ConditionCheck": {
                    "TableName": _table(),
                    "Key": meta_key,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": seen,
                }
            }
        )
    else:
        update = "SET #status = :status"
        values = {**seen, ":status": {"S": change.status}}
        if change.visit_keys is not None:
            update += ", visit_area = :area, visit_order = :order"
            values |= {":area": {"S": change.visit_keys[0]}, ":order": {"S": change.visit_keys[1]}}
        items.append(
            {
                "Update": {
                    "TableName": _table(),
                    "Key": meta_key,
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )
        if change.receipt_code:
            items.append(
                {
                    "Update": {
                        "TableName": _table(),
                        "Key": {"pk": {"S": storage.receipt_pk(change.receipt_code)}, "sk": {"S": storage.RECEIPT_SK}},
                        "UpdateExpression": "SET #status = :status",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {":status": {"S": change.status}},
                    }
                }
            )
        if change.progress:
            pk_p, sk_p = storage.progress_key(change.sls_code)
            fields = sorted(change.progress)
            items.append(
                {
                    "Update": {
                        "TableName": _table(),
                        "Key": {"pk": {"S": pk_p}, "sk": {"S": sk_p}},
                        "UpdateExpression": "ADD " + ", ".join(f"#f{i} :d{i}" for i in range(len(fields))),
                        "ExpressionAttributeNames": {f"#f{i}": f for i, f in enumerate(fields)},
                        "ExpressionAttributeValues": {
                            f":d{i}": {"N": str(change.progress[f])} for i, f in enumerate(fields)
                        },
                    }
                }
            )
    try:
        _call("transact_write_items", TransactItems=items)
    except ClientError as exc:
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise FlagExists() from None
        if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            raise HouseholdChanged() from None
        if "TransactionConflict" in reasons:
            raise HouseholdChanged() from None
        _raise_busy_or(exc)


def list_flags(kk: str) -> list[ReviewFlag]:
    answer = _call(
        "query",
        TableName=_table(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :flag)",
        ExpressionAttributeValues={":pk": {"S": storage.household_pk(kk)}, ":flag": {"S": FLAG_PREFIX}},
        ConsistentRead=True,
    )
    return [
        ReviewFlag(
            kk=kk,
            reason=item["reason"]["S"],
            other_kk=item["other_kk"]["S"],
            version=int(item["version"]["N"]),
            nik=item["nik"]["S"],
            flagged_at=item["flagged_at"]["S"],
            flagged_by=item["flagged_by"]["S"],
        )
        for item in answer.get("Items", [])
    ]
