"""The bulletin's overlays (findings.kmz, findings.nvg) and research tables in both editions: what they hold,
what GDAL sees, and the public redaction (0.01 degree, coarse circles, nothing for a withheld position)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import shapely

from truceline.agreement import Agreement
from truceline.agreement.families import family
from truceline.core.uncertainty import chi2_2dof_scale
from truceline.io import csv as csv_io
from truceline.io import kmz, nvg
from truceline.report import BulletinOptions, BulletinResult, build_bulletin, research
from truceline.store import SQLiteStore

pytestmark = pytest.mark.slow

DAY = "2026-09-02"
NEW = ("findings.kmz", "findings.nvg", "findings-ucdp-ged.csv", "findings-acled.csv")
EVIDENCE_ID = re.compile(r"\b(?:ev|inc|vio|obr|sgt|fom|sst|det)-[0-9A-Za-z]")
K95 = chi2_2dof_scale(0.95)


@pytest.fixture(scope="module")
def editions(
    report_world: tuple[Path, Path], report_agreement: Agreement, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, BulletinResult]:
    data = tmp_path_factory.mktemp("overlays") / "data"
    shutil.copytree(report_world[0], data)
    store = SQLiteStore(data)
    try:
        return {
            ed: build_bulletin(
                store, report_agreement, DAY, data / "out" / ed, BulletinOptions(public=ed == "public", pdf=False)
            )
            for ed in ("internal", "public")
        }
    finally:
        store.close()


def _rows(res: BulletinResult) -> list[dict[str, str]]:
    return csv_io.read_rows(res.out / "findings.csv")


def _finding_marks(res: BulletinResult) -> list[dict[str, Any]]:
    return [m for m in kmz.read_kmz(res.out / "findings.kmz") if m["folder"].startswith("Findings: ")]


@pytest.mark.parametrize("edition", ["internal", "public"])
def test_every_edition_writes_and_lists_the_new_files(editions: dict[str, BulletinResult], edition: str) -> None:
    res = editions[edition]
    man = json.loads((res.out / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in man["files"]}
    for name in NEW:
        assert (res.out / name).is_file() and name in res.files and name in listed, name


def test_internal_overlays_hold_the_line_zones_and_every_finding_with_its_ellipse(
    editions: dict[str, BulletinResult],
) -> None:
    res = editions["internal"]
    d, rows = res.data, _rows(res)
    marks = kmz.read_kmz(res.out / "findings.kmz")
    line = [m for m in marks if m["folder"] == "Line of contact"]
    assert len(line) == 1 and line[0]["geometry"].geom_type.endswith("LineString")
    assert line[0]["line_version"] == d.line.id
    zones = [m for m in marks if m["folder"] == "Zones"]
    a = d.agreement
    assert len(zones) == len(a.parties) + 1 + len(a.disengagement_areas) + len(a.sectors) + len(a.protected_sites)
    points = [m for m in _finding_marks(res) if m["geometry"].geom_type == "Point"]
    assert sorted(m["id"] for m in points) == sorted(r["id"] for r in rows)
    vs = {v.id: v for v in d.violations}
    for m in points:
        v = vs[m["id"]]
        assert (m["geometry"].x, m["geometry"].y) == pytest.approx((v.position.lon_deg, v.position.lat_deg), abs=1e-7)
        assert m["time"] == m["time_utc"] and m["style"] == m["family"]
        assert m["folder"] == f"Findings: {family(m['family']).label}"
    ellipses = [m for m in _finding_marks(res) if m["geometry"].geom_type == "Polygon"]
    with_sigma = [v for v in d.violations if v.geo_uncertainty.cov_en_m2 is not None or v.geo_uncertainty.sigma_m]
    assert len(ellipses) == len(with_sigma) > 0
    for m in ellipses:
        a_m, b_m, _ = vs[m["id"]].geo_uncertainty.ellipse(0.95)
        assert float(m["semi_major_m"]) == pytest.approx(a_m, abs=0.06)
        assert float(m["semi_minor_m"]) == pytest.approx(b_m, abs=0.06)
    items = nvg.read_nvg(res.out / "findings.nvg")
    assert sorted(i["id"] for i in items if i["kind"] == "point") == sorted(r["id"] for r in rows)
    assert len([i for i in items if i["kind"] == "ellipse"]) == len(ellipses)
    assert [i["group"] for i in items][:1] == ["Line of contact"]


def test_gdal_sees_the_kmz_layers_and_their_features(editions: dict[str, BulletinResult]) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    for res in editions.values():
        path = res.out / "findings.kmz"
        marks = kmz.read_kmz(path)
        want: dict[str, int] = {}
        for m in marks:
            want[m["folder"]] = want.get(m["folder"], 0) + 1
        layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        assert layers == list(want)
        assert {n: pyogrio.read_info(path, layer=n)["features"] for n in layers} == want


def test_public_overlays_show_no_more_than_the_public_rows(editions: dict[str, BulletinResult]) -> None:
    res = editions["public"]
    rows = {r["ref"]: r for r in _rows(res)}
    withheld = {ref for ref, r in rows.items() if r["lon"] == ""}
    assert withheld
    marks = _finding_marks(res)
    items = [i for i in nvg.read_nvg(res.out / "findings.nvg") if i["group"].startswith("Findings: ")]
    for m in [*marks, *items]:
        assert "id" not in m and m["ref"] in rows and m["ref"] not in withheld
        for x, y in shapely.get_coordinates(m["geometry"]).tolist():  # every vertex, ellipses included
            assert abs(round(x, 2) - x) < 1e-9 and abs(round(y, 2) - y) < 1e-9, (m["ref"], x, y)
    shown = {m["ref"] for m in marks if m["geometry"].geom_type == "Point"}
    assert shown == set(rows) - withheld == {i["ref"] for i in items if i["kind"] == "point"}
    for i in items:
        if i["kind"] == "ellipse":  # a circle of the row's coarse sigma, never the covariance's shape
            e, r = i["ellipse"], rows[i["ref"]]
            assert e.semi_major_m == e.semi_minor_m == pytest.approx(K95 * float(r["sigma_m"]), abs=0.06)
            assert e.semi_major_m >= K95 * 1000.0 - 0.06
            assert (e.lon, e.lat) == (float(r["lon"]), float(r["lat"]))
    for m in marks:
        if m["geometry"].geom_type == "Polygon":
            assert float(m["semi_major_m"]) == float(m["semi_minor_m"]) >= round(K95 * 1000.0, 1)
    texts = kmz.read_kmz_files(res.out / "findings.kmz")["doc.kml"].decode() + (res.out / "findings.nvg").read_text()
    assert not EVIDENCE_ID.search(texts)
    for name in ("findings-ucdp-ged.csv", "findings-acled.csv"):
        text = (res.out / name).read_text(encoding="utf-8")
        assert not EVIDENCE_ID.search(text) and "truceline_id" not in text
    ucdp = research.read_ucdp(res.out / "findings-ucdp-ged.csv")
    assert {u["truceline_ref"] for u in ucdp if u["latitude"] is None} == withheld
    assert all(u["where_prec"] != 1 for u in ucdp)
    acled = research.read_acled(res.out / "findings-acled.csv")
    assert [a["event_id_cnty"] for a in acled] == list(rows)
