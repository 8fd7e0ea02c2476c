"""The resident-side browser tests' service (test_browser.py, test_report_browser.py): `census
serve --store memory` with a 30-household demo register, one per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.harness import running_service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_service(tmp_path_factory.mktemp("serve"), "--households", "30", "--officers", "20") as running:
        yield running
