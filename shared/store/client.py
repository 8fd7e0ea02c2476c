"""The connection to the table: bind() points every model at the configured table and
endpoint, with one set of retries and timeouts for every DynamoDB client."""

from __future__ import annotations

from typing import Any

from botocore.session import get_session
from pynamodb.connection import Connection

from shared.settings import Settings

# Every DynamoDB client's settings (docs/security.md, "Retries and timeouts"). Standard
# mode, not adaptive: a Lambda container serves one request at a time, so adaptive's
# client-side rate limiter learns from too few calls and only adds sleeps; overload is
# shed by answering 503 + Retry-After instead. Three attempts with botocore's jittered
# backoff (at most 1 s, then 2 s) and the retry quota, which stops retrying when
# failures pile up. Worst case for one failing call: 3 x 2 s read timeout + 3 s of
# backoff = 9 s, inside the functions' 10 s timeout, so the client gets our 503, not a 502.
RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 3}
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0

_connection: Connection | None = None


def bind(
    settings: Settings,
    *,
    connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS,
    read_timeout_seconds: float = READ_TIMEOUT_SECONDS,
    retries: dict[str, Any] | None = None,
) -> None:
    """Point every model at the configured table and endpoint (AWS, DynamoDB Local or moto),
    with the client settings above (fault tests shorten the timeouts)."""
    global _connection
    import pynamodb.settings

    # schema imports this module's timeouts for its defaults: imported here, not at the top.
    from shared.store.schema import MODELS, CensusItem

    CensusItem.Meta.table_name = settings.table_name
    CensusItem.Meta.region = settings.region
    CensusItem.Meta.host = settings.dynamodb_endpoint_url
    CensusItem.Meta.connect_timeout_seconds = connect_timeout_seconds
    CensusItem.Meta.read_timeout_seconds = read_timeout_seconds
    # PynamoDB passes `retry_configuration` straight to botocore's Config(retries=...);
    # its model connections read it only from its settings.
    pynamodb.settings.default_settings_dict["retry_configuration"] = dict(retries or RETRIES)  # type: ignore[assignment]
    # One botocore session for every model's connection (PynamoDB gives each its own): the
    # first request then loads DynamoDB's service model once, not once per model used
    # (449 ms of CPU before, ~100 ms after; docs/performance.md). Other threads still get
    # sessions of their own, as PynamoDB intends (botocore's client creation is not thread-safe).
    session = get_session()
    for model in MODELS:
        model._connection = None
        model._get_connection().connection._local.session = session
    _connection = None
    transaction_connection()._local.session = session


def transaction_connection() -> Connection:
    """The connection TransactWrite uses (the models' settings, made once per bind())."""
    global _connection
    if _connection is None:
        from shared.store.schema import CensusItem

        meta = CensusItem.Meta
        _connection = Connection(
            region=meta.region,
            host=meta.host,
            connect_timeout_seconds=meta.connect_timeout_seconds,
            read_timeout_seconds=meta.read_timeout_seconds,
            max_retry_attempts=meta.max_retry_attempts,
            retry_configuration=pynamodb_retries(),
        )
    return _connection


def pynamodb_retries() -> Any:
    """The botocore retry settings bind() chose (also for connections made outside the models)."""
    import pynamodb.settings

    return pynamodb.settings.default_settings_dict["retry_configuration"]
