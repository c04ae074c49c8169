"""End to end over HTTP: a simulated hour sent through the ingest endpoints, processed, read back.

The observations of a short scenario go in through ``POST /api/v1/ingest/{kind}`` (JSON, NDJSON and
CSV) and must land exactly as ``truceline ingest`` lands them; after processing, the collections
(JSON API and OGC) must hold what the store holds, page after page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth
from tests.scenarios import one_sector_day
from truceline.agreement import load_agreement
from truceline.api import create_app
from truceline.io.records import kind_for
from truceline.service.ingest import ORDER, ingest_files
from truceline.service.process import process
from truceline.sim.run import simulate
from truceline.sim.scenario import parse_scenario
from truceline.store import SQLiteStore

pytestmark = pytest.mark.slow

SCENARIO = one_sector_day(
    "api", 1, {"howitzer_122mm": 0.5, "howitzer_152mm": 0.5}, rounds_per_day=900, claims_per_party_per_day=48
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("api-scenario")
    simulate(parse_scenario(SCENARIO), root / "sim")
    data = root / "data"
    store = SQLiteStore(data)
    from truceline.service.tokens import create_token

    tokens = {role: create_token(store, role, f"{role}.e2e")[0] for role in ("admin", "observer", "analyst")}
    store.close()
    app = create_app(data, root / "sim" / "agreement")
    with TestClient(app) as client:
        yield {"root": root, "data": data, "client": client, "tokens": tokens}


def _rank(p: Path) -> int:
    k = str(kind_for(p))
    return ORDER.index(k) if k in ORDER else len(ORDER)


def test_ingest_process_and_read_back(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    obs = world["root"] / "sim" / "observations"
    files = sorted((p for p in obs.iterdir() if p.suffix in (".jsonl", ".csv")), key=_rank)
    observer = auth(world["tokens"]["observer"])
    sent = {}
    for i, path in enumerate(files):
        kind = str(kind_for(path))
        if path.suffix == ".csv":
            r = client.post(f"/api/v1/ingest/{kind}", content=path.read_bytes(),
                            headers=observer | {"Content-Type": "text/csv"})  # fmt: skip
        elif i % 2:
            r = client.post(f"/api/v1/ingest/{kind}", content=path.read_bytes(),
                            headers=observer | {"Content-Type": "application/x-ndjson"})  # fmt: skip
        else:
            import json

            objs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            r = client.post(f"/api/v1/ingest/{kind}", json=objs, headers=observer)
        assert r.status_code == 200, (path.name, r.text[:500])
        sent[kind] = r.json()["inserted"]
    # The CLI on the same files stores the same counts.
    cli = SQLiteStore(world["root"] / "cli")
    try:
        report = ingest_files(cli, files)
        assert report.ok and {f.kind: f.inserted for f in report.files} == sent
    finally:
        cli.close()

    store = SQLiteStore(world["data"])
    try:
        summary = process(store, load_agreement(world["root"] / "sim" / "agreement"))
        assert summary.incidents > 5, summary
        n_inc, n_vio = len(store.derived("incident")), len(store.derived("violation"))
        n_claims = store.count("claim")
    finally:
        store.close()

    analyst = auth(world["tokens"]["analyst"])
    seen: list[str] = []
    url: str | None = "/ogc/collections/incidents/items?limit=7"
    while url:
        doc = client.get(url, headers=analyst).json()
        assert doc["numberMatched"] == n_inc
        seen += [f["id"] for f in doc["features"]]
        url = next((lk["href"] for lk in doc["links"] if lk["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == n_inc
    vios = client.get("/api/v1/violations?limit=10000", headers=analyst).json()
    assert vios["numberMatched"] == n_vio == len(vios["features"])
    public = client.get("/api/v1/violations?limit=10000").json()
    assert public["numberMatched"] == n_vio
    assert all(round(c, 2) == c for f in public["features"] for c in f["geometry"]["coordinates"])
    claims = client.get("/api/v1/claims?limit=10000", headers=analyst)
    assert int(claims.headers["x-total-count"]) == n_claims
    assert all(item["verdict"] is not None for item in claims.json())
    agg = client.get("/api/v1/aggregates?by=family", headers=analyst).json()
    assert agg["total"] == n_vio
    first = seen[0]
    detail = client.get(f"/api/v1/incidents/{first}", headers=analyst).json()
    assert detail["incident"]["id"] == first and detail["events"]
    sensors = client.get("/api/v1/sensors?limit=10000", headers=analyst).json()
    assert sensors["numberMatched"] > 10
    cov = client.get("/api/v1/coverage?cell_km=10", headers=analyst)
    assert cov.status_code == 200 and cov.json()["features"]
