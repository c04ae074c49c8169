"""Fixtures of the API tests: a hand-made store (read-only per module, fresh per test for writes) and clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.data import Built, build
from truceline.agreement import Agreement, default_agreement
from truceline.api import create_app
from truceline.api.middleware import ServerSettings


@pytest.fixture(scope="session")
def agreement() -> Agreement:
    return default_agreement()


#: The server's settings in these tests: event streams end after a fraction of a second (the role matrix
#: reads every route to its end).
SETTINGS = ServerSettings(stream_poll_s=0.05, stream_max_s=0.3)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The store the read tests share (nothing writes to it)."""
    return build(tmp_path_factory.mktemp("api") / "data")


@pytest.fixture(scope="module")
def client(built: Built, agreement: Agreement) -> Iterator[TestClient]:
    with TestClient(create_app(built.data, agreement, settings=SETTINGS)) as c:
        yield c


@pytest.fixture
def fresh(tmp_path: Path) -> Built:
    """A store of its own, for a test that writes."""
    return build(tmp_path / "data")


@pytest.fixture
def fresh_client(fresh: Built, agreement: Agreement) -> Iterator[TestClient]:
    with TestClient(create_app(fresh.data, agreement, settings=SETTINGS)) as c:
        yield c


def auth(token: str | None) -> dict[str, str]:
    """Headers for a token (none for the public)."""
    return {} if token is None else {"Authorization": f"Bearer {token}"}


@pytest.fixture
def as_role(built: Built) -> Callable[[str], dict[str, Any]]:
    """``as_role("analyst")`` -> headers of that role's token (``public``: none)."""
    return lambda role: auth(None if role == "public" else built.tokens[role])
