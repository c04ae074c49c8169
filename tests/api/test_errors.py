"""The error table: each domain error kind has its status; anything else is a logged 500 that leaks nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from truceline.agreement import Agreement
from truceline.api import create_app
from truceline.api import errors as api_errors
from truceline.core import errors as domain
from truceline.service import queries
from truceline.service.queries import QueryError, UnknownKind
from truceline.service.review import ReviewConflict, ReviewError
from truceline.service.tokens import TokenError

SECRET = "s3cret-internal-state"

#: Exceptions and the status each must give, the domain kinds and the service's own among them.
CASES: list[tuple[Exception, int]] = [
    (domain.NotFound("thing 'x': not found"), 404),
    (domain.InvalidInput("value: must be positive"), 422),
    (domain.Conflict("thing 'x': already done"), 409),
    (domain.Forbidden("role 'liaison' may not"), 403),
    (QueryError("bbox", "not numbers"), 400),
    (UnknownKind("kind 'x': unknown"), 404),
    (ReviewError("violation", "vio-x", "not found"), 404),
    (ReviewConflict("violation", "vio-x", "already verified"), 409),
    (TokenError("role: 'root' is not a role"), 422),
    (api_errors.BadRequest("date: not a date"), 400),
    (api_errors.Unauthorized("a token is needed"), 401),
    (api_errors.Forbidden("edition: mission only"), 403),
    (api_errors.NotFound("bulletin: not published"), 404),
    (api_errors.Conflict("already"), 409),
    (api_errors.Unprocessable("reason: required"), 422),
]
#: Exceptions that are bugs, not the client's fault: 500, whatever their base class.
BUGS: list[Exception] = [
    KeyError(SECRET),
    ValueError(SECRET),
    LookupError(SECRET),
    IndexError(SECRET),
    PermissionError(SECRET),
    TypeError(SECRET),
    RuntimeError(SECRET),
    domain.DomainError(SECRET),  # a domain error of no kind is a bug too
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, agreement: Agreement) -> FastAPI:
    """The real app, with one test route raising the exception registered under a name."""
    application = create_app(tmp_path_factory.mktemp("errors") / "data", agreement)
    table = {f"case{i}": exc for i, (exc, _) in enumerate(CASES)} | {f"bug{i}": exc for i, exc in enumerate(BUGS)}

    def raiser(name: str) -> dict[str, str]:
        raise table[name]

    application.add_api_route("/__test__/raise/{name}", raiser, methods=["GET"])
    return application


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize(("i", "status"), [(i, s) for i, (_, s) in enumerate(CASES)],
                         ids=[f"{type(e).__name__}-{s}" for e, s in CASES])  # fmt: skip
def test_each_domain_error_has_its_status(client: TestClient, i: int, status: int) -> None:
    exc = CASES[i][0]
    assert api_errors.status_of(exc) == status
    r = client.get(f"/__test__/raise/case{i}")
    assert r.status_code == status, r.text
    assert r.json() == {"detail": str(exc)}
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("i", range(len(BUGS)), ids=[type(e).__name__ for e in BUGS])
def test_anything_else_is_a_logged_500_that_leaks_nothing(
    client: TestClient, caplog: pytest.LogCaptureFixture, i: int
) -> None:
    assert api_errors.status_of(BUGS[i]) == 500
    with caplog.at_level(logging.ERROR, logger="truceline.api.errors"):
        r = client.get(f"/__test__/raise/bug{i}")
    assert r.status_code == 500
    assert r.json() == {"detail": "internal server error"}
    assert SECRET not in r.text
    (rec,) = [rec for rec in caplog.records if rec.name == "truceline.api.errors"]
    assert rec.exc_info is not None and rec.exc_info[1] is BUGS[i]  # the traceback is in the log
    assert f"unhandled {type(BUGS[i]).__name__}" in rec.getMessage()


def test_bare_key_error_in_a_real_route_is_a_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``KeyError`` (a ``LookupError``) from the service used to be a 404; it is a bug: 500."""

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError(SECRET)

    monkeypatch.setattr(queries, "violations", broken)
    with caplog.at_level(logging.ERROR, logger="truceline.api.errors"):
        r = client.get("/api/v1/violations")
    assert r.status_code == 500 and r.json() == {"detail": "internal server error"} and SECRET not in r.text
    assert any(rec.exc_info and isinstance(rec.exc_info[1], KeyError) for rec in caplog.records)
    assert client.get("/api/v1/layers/nope").status_code == 404  # a domain NotFound still is one


def test_table_order_puts_the_specific_kinds_first() -> None:
    """``QueryError`` and ``BadRequest`` are invalid input with their own status: before ``InvalidInput``."""
    kinds = [cls for cls, _ in api_errors.STATUSES]
    assert kinds.index(QueryError) < kinds.index(domain.InvalidInput)
    assert kinds.index(api_errors.BadRequest) < kinds.index(domain.InvalidInput)
    for cls, _ in api_errors.STATUSES:
        assert issubclass(cls, domain.DomainError)  # only domain errors have a status of their own


def test_store_by_url(tmp_path: Path, agreement: Agreement) -> None:
    """The app opens its store by URL; the bulletins are read from the SQLite data directory."""
    data = tmp_path / "data"
    (data / "bulletins" / "2026-09-02-public").mkdir(parents=True)
    (data / "bulletins" / "2026-09-02-public" / "bulletin.html").write_text("<p>ok</p>")
    with TestClient(create_app(f"sqlite://{data}", agreement)) as c:
        listed = c.get("/api/v1/bulletins").json()
        assert [(b["date"], b["edition"]) for b in listed] == [("2026-09-02", "public")]
        assert c.get("/api/v1/violations").status_code == 200
    with pytest.raises(domain.InvalidInput, match="unknown scheme 'mysql'"):
        create_app("mysql://db/truceline", agreement)
    with pytest.raises(domain.InvalidInput, match=r"127\.0\.0\.1:1/truceline") as down:
        create_app("postgresql://truceline:s3cret@127.0.0.1:1/truceline", agreement)
    assert "s3cret" not in str(down.value)
