"""Expected failures of the operations commands, each said in one line: what happened and
what to do. `census` prints that line and exits 1 instead of a traceback (`--debug` or
CENSUS_DEBUG=1 shows the traceback); anything not recognised here is a bug and keeps its
traceback."""

from __future__ import annotations

import csv
import errno
from collections.abc import Iterator

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

from census_ops.dynamodb_local import DynamoDBLocalError
from shared.errors import RetryableError
from shared.store.faults import TRANSIENT_CODES

RERUN = "run the command again (an import resumes where it stopped)"


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it was raised from (or during), and PynamoDB's wrapped `cause`."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (getattr(current, "cause", None), current.__cause__, current.__context__):
            if isinstance(inner, BaseException):
                pending.append(inner)


def transient(exc: BaseException) -> bool:
    """DynamoDB did not answer in time, refused, dropped the connection or throttled:
    the same call may well succeed later."""
    for cause in causes(exc):
        if isinstance(cause, RetryableError):
            return True
        if isinstance(cause, ReadTimeoutError | ConnectTimeoutError | EndpointConnectionError | ConnectionClosedError):
            return True
        if isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") in TRANSIENT_CODES:
            return True
    return False


def explain(exc: BaseException) -> str | None:
    """`<what happened>; <what to do>` for an expected failure, None for anything else."""
    for cause in causes(exc):
        message = _explain_one(cause)
        if message is not None:
            return message
    if any(isinstance(cause, RetryableError) for cause in causes(exc)):
        return f"DynamoDB stayed busy, every attempt; wait a minute, then {RERUN}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _explain_one(exc: BaseException) -> str | None:
    if isinstance(exc, DynamoDBLocalError):
        return f"{_first_line(exc)}; check `java -version` (17+) and run `make install`, then try again"
    if isinstance(exc, EndpointConnectionError):
        url = str(exc.kwargs.get("endpoint_url", "the DynamoDB endpoint")).rstrip("/")
        return f"nothing answers at {url}; start it or check --endpoint-url, then {RERUN}"
    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
        url = str(exc.kwargs.get("endpoint_url", "the DynamoDB endpoint")).rstrip("/")
        return (
            f"DynamoDB at {url} did not answer in time, on every attempt; check that it is up, then {RERUN}"
            " (--timeout and --attempts wait longer)"
        )
    if isinstance(exc, ConnectionClosedError):
        return f"DynamoDB closed the connection ({_first_line(exc)}); {RERUN}"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials; set AWS_PROFILE (or `aws configure`), or use --local / --endpoint-url locally"
    if isinstance(exc, NoRegionError):
        return "no AWS region; set AWS_REGION (the stack is in ap-southeast-3)"
    if isinstance(exc, BotoCoreError):
        return f"DynamoDB call failed: {_first_line(exc)}; {RERUN}"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        detail = exc.response.get("Error", {}).get("Message", "")
        if code == "ResourceNotFoundException":
            return f"the table does not exist ({detail}); check --table or TABLE_NAME"
        if code in TRANSIENT_CODES:
            return f"DynamoDB is throttling ({code}), every attempt; wait a minute, then {RERUN}"
        if code in {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"}:
            return f"AWS refused the credentials ({code}); refresh them (aws sso login / AWS_PROFILE)"
        if code == "AccessDeniedException":
            return f"AWS denied the call ({detail}); use a role allowed on the census table"
        return None
    if isinstance(exc, UnicodeDecodeError):
        return "a file is not UTF-8 text; save the CSV as UTF-8 and try again"
    if isinstance(exc, csv.Error):
        return f"not a readable CSV ({_first_line(exc)}); check the file"
    if isinstance(exc, OSError):
        if exc.errno == errno.EADDRINUSE:
            return "the port is already in use (another `census serve`?); stop it or choose another with --port"
        if exc.filename is not None:
            return f"cannot use {exc.filename}: {exc.strerror}; check the path and its permissions"
        if exc.errno in {errno.ECONNREFUSED, errno.ECONNRESET, errno.ETIMEDOUT}:
            return f"{exc.strerror or _first_line(exc)}; check the service is running, then {RERUN}"
    return None
