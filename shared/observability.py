"""One logger and one metrics object for every function, so log fields and metric names
stay uniform. Log lines carry no NIK, name or address: log identifiers of our own
(receipt codes, versions, request ids) and counts only."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
