"""DynamoDB faults, mapped in one place: every public store function is wrapped in
`@mapped_faults`, so throttling, DynamoDB's own 5xx, timeouts and dropped connections
become the retryable `StoreBusy` (503 + Retry-After) whatever the call - reads included."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException, TransactWriteError

from shared.errors import StoreBusy

# DynamoDB error codes that mean "try again later" (the functions answer 503; operations commands retry).
TRANSIENT_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
    # Transient on DynamoDB's side; botocore retried them already (see client.RETRIES).
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "RequestTimeout",
    "RequestTimeoutException",
}
# A TransactWriteItems cancelled for capacity, not for a condition: retry later.
_THROTTLED_CANCELLATIONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}

P = ParamSpec("P")
R = TypeVar("R")


class ConditionFailed(Exception):
    """A conditional write's condition did not hold."""


def store_busy(exc: BaseException) -> StoreBusy | None:
    """The retryable 503 for a DynamoDB fault - throttling, capacity, a transaction
    cancelled for throttling, DynamoDB's own 5xx, a connect or read timeout, a dropped
    connection - after botocore's retries; None for anything else (a bug: 500).
    Looks through `__cause__`, so a fault wrapped on its way up is still found."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, BotoCoreError):  # ReadTimeoutError, ConnectTimeoutError, EndpointConnectionError...
            return StoreBusy(retry_after=1)
        if isinstance(seen, ClientError) and seen.response.get("Error", {}).get("Code") in TRANSIENT_CODES:
            return StoreBusy(retry_after=2)
        if isinstance(seen, PynamoDBException):
            if isinstance(seen.cause, BotoCoreError):  # (cause_response_code fails on these)
                return StoreBusy(retry_after=1)
            if isinstance(seen.cause, ClientError) and seen.cause_response_code in TRANSIENT_CODES:
                return StoreBusy(retry_after=2)
            if isinstance(seen, TransactWriteError) and any(
                reason is not None and reason.code in _THROTTLED_CANCELLATIONS for reason in seen.cancellation_reasons
            ):
                return StoreBusy(retry_after=2)
        seen = seen.__cause__
    return None


def mapped_faults(function: Callable[P, R]) -> Callable[P, R]:
    """Throttling and network faults raised by `function` become a retryable 503 (StoreBusy);
    anything else propagates unchanged."""

    @functools.wraps(function)
    def mapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except (PynamoDBException, BotoCoreError) as exc:
            busy = store_busy(exc)
            if busy is not None:
                raise busy from exc
            raise

    return mapped


def condition_failed(exc: PynamoDBException) -> bool:
    """A failed ConditionExpression. (PynamoDB's cause_response_code itself raises when the
    cause is a timeout, whose `response` is None: check the cause's type first.)"""
    return isinstance(exc.cause, ClientError) and exc.cause_response_code == "ConditionalCheckFailedException"


def cancelled_by_condition(exc: TransactWriteError) -> bool:
    """A transaction cancelled because one of its conditions did not hold."""
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons)


def conditional(action: Callable[[], Any]) -> None:
    """One conditional write: a failed condition becomes `ConditionFailed` (other faults
    propagate, for `mapped_faults` to map)."""
    try:
        action()
    except PynamoDBException as exc:
        if condition_failed(exc):
            raise ConditionFailed() from None
        raise
