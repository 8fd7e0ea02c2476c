"""Configuration, read from the environment once per process (cold start) into a typed,
frozen object; domain code receives it and never reads os.environ itself."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any


def _datetime_or_none(name: str) -> datetime | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError(f"{name} must carry a UTC offset, e.g. 2027-02-15T00:00:00+07:00")
    return value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    table_name: str
    region: str
    # Set locally (DynamoDB Local); unset in AWS, where the regional endpoint is used.
    dynamodb_endpoint_url: str | None
    # Online phase window; None on either side means open on that side (local demo).
    online_phase_start: datetime | None
    online_phase_end: datetime | None
    max_body_bytes: int
    idempotency_ttl_seconds: int
    # Attempts at a conditional write that lost a race before answering 503.
    write_attempts: int
    # Guessing protection: this many failed KK/NIK attempts within the window lock the KK
    # (answering 429) until the window ends.
    lockout_max_failures: int
    lockout_window_seconds: int
    # Failed visits (not home, refused) before a household leaves the worklist.
    max_visit_attempts: int
    # The resident web page's origin; API Gateway cannot add CORS headers to proxy answers.
    cors_allow_origin: str | None
    # Residents' session tokens: HMAC key and lifetime. In AWS the functions get the secret's
    # ARN (SESSION_SIGNING_SECRET_ARN) and fetch the key on first use (session_signing_key());
    # locally the key itself is SESSION_SIGNING_KEY, read only when no ARN is set. Neither:
    # the session routes answer 503 sessions_unavailable.
    session_signing_key: str | None = None
    session_signing_secret_arn: str | None = None
    session_ttl_seconds: int = 1800
    # Drafts are kept until the online phase closes, or this long when it has no end.
    draft_ttl_seconds: int = 30 * 24 * 3600
    # Reports of households the register missed: per KK number, and per client (its address,
    # generous, since a household may share an address with many: a village office, a
    # mobile network's NAT; WAF's per-IP rule on POST /v1/reports stands in front in AWS).
    reports_per_kk: int = 3
    reports_per_client: int = 300
    report_window_seconds: int = 24 * 3600
    # The x-census-edge value the site's CloudFront distribution adds to /v1/* requests:
    # with it, the client is the viewer CloudFront names, not CloudFront's own address.
    edge_secret: str | None = None

    def online_phase_open(self, now: datetime) -> bool:
        if self.online_phase_start and now < self.online_phase_start:
            return False
        return not (self.online_phase_end and now > self.online_phase_end)


def load_settings() -> Settings:
    return Settings(
        table_name=os.environ.get("TABLE_NAME", "census"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "ap-southeast-3",
        dynamodb_endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
        online_phase_start=_datetime_or_none("ONLINE_PHASE_START"),
        online_phase_end=_datetime_or_none("ONLINE_PHASE_END"),
        max_body_bytes=_int("MAX_BODY_BYTES", 64 * 1024),
        idempotency_ttl_seconds=_int("IDEMPOTENCY_TTL_SECONDS", 72 * 3600),
        write_attempts=_int("WRITE_ATTEMPTS", 12),
        lockout_max_failures=_int("LOCKOUT_MAX_FAILURES", 5),
        lockout_window_seconds=_int("LOCKOUT_WINDOW_SECONDS", 15 * 60),
        max_visit_attempts=_int("MAX_VISIT_ATTEMPTS", 3),
        cors_allow_origin=os.environ.get("CORS_ALLOW_ORIGIN") or None,
        session_signing_key=os.environ.get("SESSION_SIGNING_KEY") or None,
        session_signing_secret_arn=os.environ.get("SESSION_SIGNING_SECRET_ARN", "").strip() or None,
        session_ttl_seconds=_int("SESSION_TTL_SECONDS", 1800),
        draft_ttl_seconds=_int("DRAFT_TTL_SECONDS", 30 * 24 * 3600),
        reports_per_kk=_int("REPORTS_PER_KK", 3),
        reports_per_client=_int("REPORTS_PER_CLIENT", 300),
        report_window_seconds=_int("REPORT_WINDOW_SECONDS", 24 * 3600),
        edge_secret=os.environ.get("EDGE_SECRET", "").strip() or None,
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings, read on first use and kept for the container's life."""
    return load_settings()


# Secrets Manager answers in milliseconds; a slow call is better retried, and the whole fetch
# stays well inside the functions' 10 s timeout (3 attempts of at most 1 s + 2 s).
_SECRETS_CONNECT_TIMEOUT_SECONDS = 1
_SECRETS_READ_TIMEOUT_SECONDS = 2


def _secrets_manager(region: str) -> Any:
    """A Secrets Manager client, made only when a secret is first read: boto3 is imported
    here, not at module level, so functions that never read a secret never pay for it."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "secretsmanager",
        region_name=region,
        config=Config(
            connect_timeout=_SECRETS_CONNECT_TIMEOUT_SECONDS,
            read_timeout=_SECRETS_READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "total_max_attempts": 3},
        ),
    )


@lru_cache(maxsize=4)
def secret_string(secret_id: str, region: str) -> str:
    """One GetSecretValue per secret for the container's life (a failure is not cached:
    the next request tries again)."""
    value = _secrets_manager(region).get_secret_value(SecretId=secret_id).get("SecretString")
    if not isinstance(value, str):
        raise ValueError(f"secret {secret_id} has no SecretString")
    return value


def session_signing_key(config: Settings) -> str | None:
    """The residents' session HMAC key: from Secrets Manager when the ARN is set (AWS),
    else SESSION_SIGNING_KEY (census serve, tests). Secrets Manager errors propagate."""
    if config.session_signing_secret_arn:
        return secret_string(config.session_signing_secret_arn, config.region)
    return config.session_signing_key
