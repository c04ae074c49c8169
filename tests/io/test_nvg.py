"""NVG 2.0: points, polylines, polygons with holes, ellipses and multi-part shapes, written and read back."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import shapely

from truceline.io import nvg
from truceline.io.nvg import NVG_NS


def _groups() -> list[nvg.Group]:
    poly = shapely.Polygon([(37.0, 47.9), (37.6, 47.9), (37.6, 48.3)], [[(37.3, 48.0), (37.4, 48.0), (37.4, 48.05)]])
    items = [
        nvg.Item(
            "urn:t:1",
            "a point",
            shapely.Point(37.1234567, 48.7654321),
            "#d6392b",
            True,
            1.0,
            "2026-09-02T01:02:03Z",
            {"ref": "pub-1", "sigma_m": 250.0, "none": None},
            "a finding",
        ),
        nvg.Item(
            "urn:t:1:e",
            "its ellipse",
            nvg.Ellipse(37.1234567, 48.7654321, 3000.0, 1200.0, 30.0),
            "#d6392b",
            True,
            0.15,
            "2026-09-02T01:02:03Z",
            {"semi_major_m": 3000.0},
        ),
        nvg.Item("urn:t:2", "line", shapely.LineString([(37.0, 48.0), (37.5, 48.2)])),
        nvg.Item("urn:t:3", "zone", poly, "#f5c542", True),
        nvg.Item(
            "urn:t:4", "two lines", shapely.MultiLineString([[(37, 48), (37.1, 48.1)], [(37.2, 48.2), (37.3, 48.3)]])
        ),
    ]
    return [nvg.Group("Findings", "urn:t:g1", items, 7), nvg.Group("Empty", "urn:t:g2", [], 5)]


def test_round_trip_keeps_every_item(tmp_path: Path) -> None:
    path = tmp_path / "x.nvg"
    assert nvg.write_nvg(path, _groups(), "title") == 5
    got = nvg.read_nvg(path)
    items = _groups()[0].items
    assert [(r["group"], r["uri"], r["label"], r["time"]) for r in got] == [
        ("Findings", i.uri, i.label, i.time) for i in items
    ]
    assert [r["kind"] for r in got] == ["point", "ellipse", "polyline", "polygon", "composite"]
    assert got[0]["geometry"].equals(items[0].shape) and got[0]["ref"] == "pub-1" and got[0]["none"] == ""
    assert got[0]["sigma_m"] == "250.0" and got[0]["text"] == "a finding"
    e = got[1]["ellipse"]
    assert (e.lon, e.lat, e.semi_major_m, e.semi_minor_m) == (37.1234567, 48.7654321, 3000.0, 1200.0)
    assert e.azimuth_deg == pytest.approx(30.0)
    assert got[2]["geometry"].equals(items[2].shape)
    assert got[3]["geometry"].equals(items[3].shape) and len(got[3]["geometry"].interiors) == 1
    assert got[4]["geometry"].geom_type == "MultiLineString" and got[4]["geometry"].equals(items[4].shape)


def test_the_document_is_nvg_2_in_its_namespace_without_symbols(tmp_path: Path) -> None:
    buf = io.StringIO()
    nvg.write_nvg(buf, _groups(), "title")
    root = ET.fromstring(buf.getvalue())
    assert root.tag == f"{{{NVG_NS}}}nvg" and root.get("version") == "2.0.2"
    assert [g.get("label") for g in root.findall(f"{{{NVG_NS}}}g")] == ["Findings", "Empty"]
    assert not any("symbol" in el.attrib for el in root.iter())
    ell = root.find(f".//{{{NVG_NS}}}ellipse")
    assert ell is not None and ell.get("rx") == "3000.0" and ell.get("ry") == "1200.0"
    assert float(ell.get("rotation", "nan")) == pytest.approx(60.0)  # counter-clockwise from east: 90 - azimuth
    poly = root.find(f".//{{{NVG_NS}}}polygon")
    assert poly is not None and len(poly.get("points", "").split()) == 3  # the ring is not closed


@pytest.mark.parametrize("az", [0.0, 30.0, 89.9, 90.0, 135.0, 179.0])
def test_the_azimuth_survives_the_rotation(az: float) -> None:
    buf = io.StringIO()
    nvg.write_nvg(buf, [nvg.Group("g", "urn:g", [nvg.Item("urn:e", "e", nvg.Ellipse(30.0, 50.0, 900.0, 400.0, az))])])
    (row,) = nvg.read_nvg(io.StringIO(buf.getvalue()))
    assert row["ellipse"].azimuth_deg == pytest.approx(az, abs=0.01)


def test_ellipse_polygon_points_its_major_axis_along_the_azimuth() -> None:
    e = nvg.Ellipse(37.5, 48.0, 5000.0, 1000.0, 60.0)
    poly = nvg.ellipse_polygon(e)
    xy = shapely.get_coordinates(poly)
    east = (xy[:, 0] - e.lon) * 111_412.84 * math.cos(math.radians(e.lat))
    north = (xy[:, 1] - e.lat) * (111_132.954 - 559.822 * math.cos(2 * math.radians(e.lat)))
    r = np.hypot(east, north)
    far = int(np.argmax(r))
    assert r[far] == pytest.approx(5000.0, rel=1e-6) and r.min() == pytest.approx(1000.0, rel=1e-3)
    assert math.degrees(math.atan2(east[far], north[far])) % 180.0 == pytest.approx(60.0, abs=1e-6)


def test_bad_documents_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.nvg").write_text("<kml/>", encoding="utf-8")
    with pytest.raises(ValueError, match=r"a\.nvg: not NVG 2\.0"):
        nvg.read_nvg(tmp_path / "a.nvg")
    (tmp_path / "b.nvg").write_text(f'<nvg xmlns="{NVG_NS}"><point uri="u" x="1"/></nvg>', encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.nvg: item 'u'"):
        nvg.read_nvg(tmp_path / "b.nvg")
    with pytest.raises(ValueError, match="empty geometry"):
        nvg.write_nvg(io.StringIO(), [nvg.Group("g", "urn:g", [nvg.Item("urn:x", "x", shapely.Point())])])
