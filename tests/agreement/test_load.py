import datetime as dt

import numpy as np
import pytest
import shapely

from truceline.agreement import AgreementError, NoLineInForce, load_agreement, validate_agreement
from truceline.io.geojson import write_features

from ..conftest import TOY_LINE, TOY_RU, TOY_UA

UTC = dt.UTC


def test_toy_agreement_loads(make_agreement):
    a = load_agreement(make_agreement())
    assert a.parties == {"UA": "Ukraine", "RU": "Russian Federation"}
    assert [s.id for s in a.protected_sites] == ["site-a", "site-b"]
    assert [s.contingent for s in a.sectors] == ["FRA", "GBR"]
    assert a.withdrawal_km == {"artillery_ge_100mm": 25.0, "mlrs": 35.0, "tank": 15.0}
    assert a.ceasefire_windows[0].start == dt.datetime(2026, 2, 1, 4, tzinfo=UTC)
    assert validate_agreement(a.path) == []


def _issues(path) -> list[str]:
    with pytest.raises(AgreementError) as err:
        load_agreement(path)
    return [str(i) for i in err.value.issues]


def test_missing_layer_names_its_field(make_agreement):
    def edit(m, root):
        (root / "layers" / "ru_v1.geojson").unlink()

    issues = _issues(make_agreement(edit))
    assert any(i.startswith("lines[0].controlled_areas.RU: layer file layers/ru_v1.geojson not found") for i in issues)


def test_self_intersecting_polygon(make_agreement):
    bowtie = shapely.Polygon([(33, 46.5), (35, 49.5), (35, 46.5), (33, 49.5)])

    def edit(m, root):
        write_features(root / "layers" / "ua_v1.geojson", [(bowtie, {})], precision=9)

    issues = _issues(make_agreement(edit))
    assert any("lines[0].controlled_areas.UA" in i and "Self-intersection" in i for i in issues), issues


def test_unknown_weapon_class(make_agreement):
    def edit(m, root):
        m["withdrawal_km"]["howitzer_999mm"] = 30

    issues = _issues(make_agreement(edit))
    assert any(i.startswith("withdrawal_km.howitzer_999mm") for i in issues), issues


def test_overlapping_versions(make_agreement):
    def edit(m, root):
        m["lines"][0]["valid_to"] = "2026-06-01T00:00:00+00:00"
        m["lines"].append({**m["lines"][0], "id": "v2", "valid_from": "2026-03-01T00:00:00+00:00", "valid_to": None})

    issues = _issues(make_agreement(edit))
    assert any(i.startswith("lines[1].valid_from") and "overlaps" in i for i in issues), issues


def test_every_error_is_reported_at_once(make_agreement):
    def edit(m, root):
        m["buffer_zone_km"] = -1
        m["effective_from"] = "2026-01-01T00:00:00"  # no timezone
        m["parties"][1]["id"] = "XX"
        del m["title"]

    issues = _issues(make_agreement(edit))
    fields = {i.split(":")[0] for i in issues}
    assert {"buffer_zone_km", "effective_from", "parties[1].id", "title"} <= fields, issues


def test_layer_errors_are_collected_together(make_agreement):
    def edit(m, root):
        write_features(
            root / "layers" / "sites.geojson",
            [
                (shapely.Point(34.9, 48.0), {"id": "s1", "name": "A", "radius_km": 3}),
                (shapely.Point(34.9, 48.1), {"id": "s1", "name": "B", "radius_km": 3}),
                (shapely.Point(34.9, 48.2), {"id": "s3", "name": "C", "radius_km": -1}),
                (shapely.box(34, 48, 34.1, 48.1), {"id": "s4", "name": "D", "radius_km": 1}),
            ],
        )
        write_features(root / "layers" / "line_v1.geojson", [(TOY_UA, {})])
        m["ceasefire_windows"][0]["sites"] = ["nowhere"]

    issues = _issues(make_agreement(edit))
    text = "\n".join(issues)
    for expected in (
        "protected_sites[1].id: duplicate",
        "protected_sites[2].radius_km",
        "protected_sites[3].geometry",
        "lines[0].line:",
        "ceasefire_windows[0].sites[0]: unknown",
    ):
        assert expected in text, text


def test_overlapping_controlled_areas(make_agreement):
    def edit(m, root):
        write_features(root / "layers" / "ru_v1.geojson", [(shapely.box(34, 46.5, 37, 49.5), {})])

    issues = _issues(make_agreement(edit))
    assert any(i.startswith("lines[0].controlled_areas") and "overlap" in i for i in issues), issues


def test_bad_yaml_and_missing_manifest(tmp_path):
    (tmp_path / "agreement.yaml").write_text("id: [unclosed\n")
    assert "not valid YAML" in str(validate_agreement(tmp_path)[0])
    assert "not found" in str(validate_agreement(tmp_path / "nowhere")[0])


def _two_versions(m, root):
    moved = shapely.LineString([(35.1, 47.0), (35.1, 49.0)])
    ua2 = shapely.Polygon([(33, 46.5), (35.1, 46.5), (35.1, 49.5), (33, 49.5)])
    ru2 = shapely.Polygon([(35.1, 46.5), (37, 46.5), (37, 49.5), (35.1, 49.5)])
    write_features(root / "layers" / "line_v2.geojson", [(moved, {})])
    write_features(root / "layers" / "ua_v2.geojson", [(ua2, {})])
    write_features(root / "layers" / "ru_v2.geojson", [(ru2, {})])
    m["lines"].append(
        {
            "id": "v2",
            "valid_from": "2026-03-01T12:00:00+00:00",
            "line": "layers/line_v2.geojson",
            "controlled_areas": {"UA": "layers/ua_v2.geojson", "RU": "layers/ru_v2.geojson"},
        }
    )


def test_line_in_force_at_a_time(make_agreement):
    a = load_agreement(make_agreement(_two_versions))
    assert a.line_at(dt.datetime(2026, 2, 1, tzinfo=UTC)).id == "v1"
    assert a.line_at(dt.datetime(2026, 3, 1, 11, 59, tzinfo=UTC)).id == "v1"
    assert a.line_at(dt.datetime(2026, 3, 1, 12, tzinfo=UTC)).id == "v2"
    assert a.versions[0].valid_to == a.versions[1].valid_from
    with pytest.raises(NoLineInForce, match="no line of contact in force at 2025"):
        a.line_at(dt.datetime(2025, 12, 31, tzinfo=UTC))
    with pytest.raises(ValueError, match="no timezone"):
        a.line_at(dt.datetime(2026, 2, 1))


def test_firing_point_changes_side_when_the_line_moves(make_agreement):
    a = load_agreement(make_agreement(_two_versions))
    lon, lat = 35.05, 48.2  # east of the first line, west of the moved one
    before = a.query([lon], [lat], dt.datetime(2026, 2, 1, tzinfo=UTC))
    after = a.query([lon], [lat], dt.datetime(2026, 3, 2, tzinfo=UTC))
    assert before.sides.party_ids().tolist() == ["RU"]
    assert after.sides.party_ids().tolist() == ["UA"]


def test_query_with_a_time_per_point(make_agreement):
    a = load_agreement(make_agreement(_two_versions))
    times = [
        dt.datetime(2026, 2, 1, tzinfo=UTC),
        dt.datetime(2026, 3, 2, tzinfo=UTC),
        dt.datetime(2026, 2, 2, tzinfo=UTC),
    ]
    groups = a.query_at_times([35.05] * 3, [48.2] * 3, times)
    sides = np.empty(3, dtype=object)
    for idx, res in groups:
        sides[idx] = res.sides.party_ids()
    assert sides.tolist() == ["RU", "UA", "RU"]
    assert a.version_index(np.array(["2026-02-01T00:00", "2026-03-05T00:00"], dtype="datetime64[us]")).tolist() == [
        0,
        1,
    ]
    with pytest.raises(NoLineInForce, match="point 0"):
        a.query_at_times([35.0], [48.0], [dt.datetime(2025, 1, 1, tzinfo=UTC)])


def test_windows_open_at_a_time(make_agreement):
    a = load_agreement(make_agreement())
    assert [w.id for w in a.windows_at(dt.datetime(2026, 2, 1, 10, tzinfo=UTC))] == ["w1"]
    assert a.windows_at(dt.datetime(2026, 2, 1, 16, tzinfo=UTC)) == []


def test_toy_geometry_is_used(make_agreement):
    a = load_agreement(make_agreement())
    v = a.versions[0]
    assert v.line.equals(TOY_LINE) and v.areas["UA"].equals(TOY_UA) and v.areas["RU"].equals(TOY_RU)


def test_format_version_and_duplicate_parties_reported_with_other_errors(make_agreement):
    def edit(m, root):
        m["truceline_agreement"] = 99
        m["parties"][1]["id"] = "UA"
        m["buffer_zone_km"] = "wide"

    fields = {i.split(":")[0] for i in _issues(make_agreement(edit))}
    assert {"truceline_agreement", "parties", "buffer_zone_km"} <= fields, fields


def test_query_at_times_checks_lengths_and_names_the_bad_point(make_agreement):
    a = load_agreement(make_agreement())
    t = dt.datetime(2026, 2, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="3 points but 1 times"):
        a.query_at_times([35.0, 35.1, 35.2], [48.0, 48.0, 48.0], [t])
    from truceline.geo.errors import InvalidCoordinateError

    with pytest.raises(InvalidCoordinateError, match="point 3: lat=95"):
        a.query_at_times([35.0] * 4, [48.0, 48.0, 48.0, 95.0], [t] * 4)


def test_duplicate_window_ids(make_agreement):
    def edit(m, root):
        m["ceasefire_windows"].append(dict(m["ceasefire_windows"][0]))

    assert any(i.startswith("ceasefire_windows[1].id: duplicate") for i in _issues(make_agreement(edit)))


def test_agreements_loaded_from_the_same_files_share_their_zone_engine(make_agreement):
    """The zone engine (the line's distance index, the areas' index) is built once per process for the
    same geometry and settings; another buffer width is another engine."""
    root = make_agreement()
    a, b = load_agreement(root), load_agreement(root)
    assert a is not b
    va, vb = a.versions[0], b.versions[0]
    assert a.zones(va) is b.zones(vb)

    def wider(manifest, _root):
        manifest["buffer_zone_km"] = manifest["buffer_zone_km"] + 5.0

    c = load_agreement(make_agreement(wider))
    assert c.zones(c.versions[0]) is not a.zones(va)
    assert c.buffer_zone_km == a.buffer_zone_km + 5.0
