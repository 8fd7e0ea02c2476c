"""The nationwide worklist fan-out's queue: one message per area, sent in batches of ten."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import boto3


@lru_cache(maxsize=1)
def _sqs() -> Any:
    return boto3.client("sqs")


def send_areas(queue_url: str, areas: Sequence[str], generated_by: str = "schedule") -> int:
    """Queue one generation message per area; returns how many were accepted."""
    sent = 0
    for start in range(0, len(areas), 10):
        chunk = areas[start : start + 10]
        answer = _sqs().send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "MessageBody": json.dumps({"area_code": area, "generated_by": generated_by})}
                for i, area in enumerate(chunk)
            ],
        )
        if answer.get("Failed"):
            raise RuntimeError(f"{len(answer['Failed'])} fan-out messages were refused by SQS")
        sent += len(chunk)
    return sent
