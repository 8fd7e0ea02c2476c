"""One logger and one metrics object for every function, so log fields and metric names
stay uniform. Log lines carry no NIK, name or address: log identifiers of our own
(receipt codes, versions, request ids) and counts only."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger, Metrics

# Libraries whose DEBUG lines quote requests: path parameters (KK numbers) and bodies
# (NIKs, names). Capped here so that even POWERTOOLS_DEBUG or a DEBUG root cannot leak them.
for _quoting_logger in ("aws_lambda_powertools.event_handler", "pynamodb", "botocore"):
    logging.getLogger(_quoting_logger).setLevel(logging.INFO)

logger = Logger()
metrics = Metrics()
