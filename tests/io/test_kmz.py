"""KMZ: folders of points, lines and polygons with styles and icons, read back by us and by GDAL."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
import shapely

from truceline.io import kml, kmz

pyogrio = pytest.importorskip("pyogrio")


def _folders() -> list[kml.Folder]:
    line = shapely.LineString([(37.0, 48.0), (37.25, 48.1), (37.5, 48.2)])
    zone = shapely.Polygon(
        [(37.0, 47.9), (37.6, 47.9), (37.6, 48.3), (37.0, 48.3)], [[(37.2, 48.0), (37.3, 48.0), (37.3, 48.1)]]
    )
    sites = shapely.MultiPolygon([shapely.Point(37.1, 48.05).buffer(0.01), shapely.Point(37.4, 48.15).buffer(0.01)])
    marks = [
        kml.Placemark(
            "a",
            shapely.Point(37.123456789, 48.987654321),
            "fam",
            "2026-09-02T01:02:03Z",
            {"ref": "pub-1", "sigma_m": 120.5, "empty": None},
        ),
        kml.Placemark(
            "a ellipse", shapely.Point(37.12, 48.98).buffer(0.02), "fam", "2026-09-02T01:02:03Z", {"ref": "pub-1"}
        ),
        kml.Placemark("b", shapely.Point(37.2, 48.1), "fam", "2026-09-02T02:00:00Z", {"ref": "pub-2"}),
    ]
    return [
        kml.Folder("Line of contact", [kml.Placemark("line", line, "line", None, {"line_version": "v1"})], 5),
        kml.Folder("Zones", [kml.Placemark("zone", zone, "zone"), kml.Placemark("sites", sites, "zone")], 5),
        kml.Folder("Findings", marks, 7),
    ]


def _styles() -> list[kml.Style]:
    return [
        kml.Style("fam", "#d6392b", "icons/fam.png"),
        kml.Style("line", "#222222", None, 3.0, 0.0),
        kml.Style("zone", "#f5c542"),
    ]


@pytest.fixture
def written(tmp_path: Path) -> Path:
    path = tmp_path / "out" / "x.kmz"
    n = kmz.write_kmz(path, "Test", _folders(), _styles(), {"icons/fam.png": kmz.dot_icon("#d6392b")}, "no claims")
    assert n == 6
    return path


def test_round_trip_keeps_geometry_folders_styles_times_and_data(written: Path) -> None:
    got = kmz.read_kmz(written)
    want = [(f.name, p) for f in _folders() for p in f.placemarks]
    assert [(r["folder"], r["name"], r["style"], r["time"]) for r in got] == [
        (f, p.name, p.style, p.time) for f, p in want
    ]
    for r, (_, p) in zip(got, want, strict=True):
        assert r["geometry"].geom_type == p.geometry.geom_type
        tol = 1e-7 if r["folder"] == "Findings" else 1e-5
        assert shapely.equals_exact(r["geometry"], shapely.set_precision(p.geometry, 0), tolerance=tol)
        assert {k: r[k] for k in p.data} == {k: "" if v is None else str(v) for k, v in p.data.items()}
    zone = got[1]["geometry"]
    assert len(zone.interiors) == 1
    assert got[2]["geometry"].geom_type == "MultiPolygon" and len(got[2]["geometry"].geoms) == 2


def test_the_archive_holds_the_document_first_and_its_icons_and_nothing_from_the_network(written: Path) -> None:
    files = kmz.read_kmz_files(written)
    with zipfile.ZipFile(written) as z:
        assert z.namelist()[0] == "doc.kml"
    assert set(files) == {"doc.kml", "icons/fam.png"}
    assert files["icons/fam.png"][:8] == b"\x89PNG\r\n\x1a\n"
    doc = files["doc.kml"].decode()
    hrefs = re.findall(r"<href>([^<]*)</href>", doc)
    assert hrefs == ["icons/fam.png"] and "http" not in "".join(hrefs)
    assert "<TimeStamp><when>2026-09-02T01:02:03Z</when></TimeStamp>" in doc
    assert '<Style id="fam">' in doc and "<PolyStyle>" in doc and "<description>no claims</description>" in doc


def test_writing_twice_gives_the_same_bytes(written: Path, tmp_path: Path) -> None:
    again = io.BytesIO()
    kmz.write_kmz(again, "Test", _folders(), _styles(), {"icons/fam.png": kmz.dot_icon("#d6392b")}, "no claims")
    assert again.getvalue() == written.read_bytes()


def test_gdal_reads_one_layer_per_folder_with_its_features_and_times(written: Path) -> None:
    layers = pyogrio.list_layers(written)
    assert [str(n) for n in layers[:, 0]] == ["Line of contact", "Zones", "Findings"]
    counts = {name: pyogrio.read_info(written, layer=name)["features"] for name in layers[:, 0]}
    assert counts == {"Line of contact": 1, "Zones": 2, "Findings": 3}
    meta, _, geoms, fields = pyogrio.raw.read(written, layer="Findings")
    names = list(meta["fields"])
    assert "timestamp" in names and "ref" in names
    assert fields[names.index("ref")].tolist() == ["pub-1", "pub-1", "pub-2"]
    first = shapely.from_wkb(geoms[0])
    assert (first.x, first.y) == pytest.approx((37.1234568, 48.9876543), abs=1e-9)
    # The KML driver reads the same document inside the archive.
    inner = pyogrio.list_layers(f"/vsizip/{written}/doc.kml")
    assert [str(n) for n in inner[:, 0]] == ["Line of contact", "Zones", "Findings"]


def test_coarse_decimals_round_every_vertex(tmp_path: Path) -> None:
    circle = shapely.Point(37.123, 48.456).buffer(0.03)
    path = tmp_path / "c.kmz"
    kmz.write_kmz(path, "c", [kml.Folder("F", [kml.Placemark("c", circle)], 2)])
    doc = kmz.read_kmz_files(path)["doc.kml"].decode()
    numbers = re.findall(r"-?\d+\.\d+", " ".join(re.findall(r"<coordinates>([^<]*)</coordinates>", doc)))
    assert numbers and all(len(x.split(".")[1]) == 2 for x in numbers)


def test_bad_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="icons the archive does not hold"):
        kmz.write_kmz(tmp_path / "x.kmz", "t", [], [kml.Style("s", "#000000", "icons/s.png")])
    (tmp_path / "bad.kmz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"bad\.kmz: not a KMZ"):
        kmz.read_kmz(tmp_path / "bad.kmz")
    with pytest.raises(ValueError, match="must be a relative path"):
        kmz.kmz_bytes("<kml/>", {"../x.png": b""})
    with pytest.raises(ValueError, match="empty geometry"):
        kml.geometry_kml(shapely.Point())
