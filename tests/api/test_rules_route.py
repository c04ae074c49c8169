"""GET /api/v1/rules: the rule families' registry as JSON, for every role, in the registry's order.

The app is built as the other API tests build it (``create_app`` over the hand-made store of
``tests/api/data.py``, through the ``client`` fixture); one test mounts the router alone on a bare
FastAPI app (the caller fixed as the public), so the route's content is tested apart from the app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import auth
from truceline.adjudicate import rule_families
from truceline.agreement.families import FAMILIES, FAMILY_IDS
from truceline.api import routes_rules
from truceline.api.auth import get_principal
from truceline.service.tokens import PUBLIC

ALL = ("public", "admin", "analyst", "observer", "liaison-UA", "liaison-RU")


@pytest.mark.parametrize("role", ALL)
def test_every_role_reads_the_rule_families(client: TestClient, as_role: Callable[[str], dict[str, Any]],
                                            role: str) -> None:  # fmt: skip
    r = client.get("/api/v1/rules", headers=as_role(role))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == [f.to_json() for f in rule_families()]


def test_the_router_alone_serves_the_registry() -> None:
    app = FastAPI()
    app.include_router(routes_rules.router)
    app.dependency_overrides[get_principal] = lambda: PUBLIC
    with TestClient(app) as c:
        r = c.get("/api/v1/rules")
    assert r.status_code == 200
    assert [x["id"] for x in r.json()] == list(FAMILY_IDS)
    assert r.json() == [f.to_json() for f in rule_families()]


def test_the_families_in_order_with_labels_colours_and_parameters(client: TestClient) -> None:
    rules = client.get("/api/v1/rules").json()
    assert [r["id"] for r in rules] == list(FAMILY_IDS)
    for r, f in zip(rules, FAMILIES, strict=True):
        assert (r["label"], r["short_label"], r["colour"]) == (f.label, f.short, f.colour)
        assert set(r) == {"id", "label", "short_label", "title", "version", "colour", "parameters"}
    assert rules[0] == {
        "id": "fire_across_line",
        "label": "Fire across the line",
        "short_label": "Across line",
        "title": "Fire across the line of contact",
        "version": "1.0.0",
        "colour": "#d6392b",
        "parameters": {"min_confidence": 0.5},
    }
    by_id = {r["id"]: r for r in rules}
    assert by_id["withdrawal_zone"]["parameters"] == {"min_confidence": 0.0}
    assert by_id["monitoring_interference"]["parameters"] == {}


def test_a_bad_token_is_refused_as_everywhere(client: TestClient) -> None:
    assert client.get("/api/v1/rules", headers=auth("not-a-token")).status_code == 401


def test_the_route_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/v1/rules"]["get"]
    assert "agreement" in op["tags"] and op["summary"]
