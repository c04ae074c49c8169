import json
from pathlib import Path

import shapely
from typer.testing import CliRunner

from truceline.cli import app
from truceline.io.geojson import write_features

runner = CliRunner()


def test_every_command_has_help():
    for args in ([], ["agreement"], ["agreement", "validate"], ["agreement", "show"], ["agreement", "derive"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_validate_valid_and_invalid(make_agreement):
    ok = runner.invoke(app, ["agreement", "validate", str(make_agreement())])
    assert ok.exit_code == 0 and "valid" in ok.output

    def edit(m, root):
        m["withdrawal_km"]["catapult"] = 1
        (root / "layers" / "sites.geojson").unlink()

    bad = runner.invoke(app, ["agreement", "validate", str(make_agreement(edit))])
    assert bad.exit_code == 1
    assert "withdrawal_km.catapult" in bad.output and "protected_sites: layer file" in bad.output


def test_show_json_of_the_toy(make_agreement):
    result = runner.invoke(app, ["agreement", "show", str(make_agreement()), "--json"])
    assert result.exit_code == 0, result.output
    s = json.loads(result.output)
    assert 221 < s["line_length_km"] < 224  # 2 degrees of latitude along 35°E
    assert [v["id"] for v in s["versions"]] == ["v1"]
    assert [p["id"] for p in s["parties"]] == ["UA", "RU"]
    buf = s["zones"]["buffer_zone"]
    # 7.5 km each side of a 222 km line plus half-disc ends, clipped to the toy areas.
    assert 3300 < buf["total_km2"] < 3600 and abs(buf["area_km2"]["UA"] - buf["area_km2"]["RU"]) < 1


def test_show_human_and_date_out_of_range(make_agreement):
    path = str(make_agreement())
    human = runner.invoke(app, ["agreement", "show", path])
    assert human.exit_code == 0 and "line in force: v1" in human.output and "site-a" in human.output
    early = runner.invoke(app, ["agreement", "show", path, "--date", "2020-01-01"])
    assert early.exit_code == 1 and "no line of contact in force" in early.output
    naive = runner.invoke(app, ["agreement", "show", path, "--date", "2026-02-01T10:00"])
    assert naive.exit_code == 2 and "no timezone" in naive.output


def test_derive_from_a_toy_control_polygon(tmp_path):
    country = shapely.box(30, 45, 40, 52)
    control = shapely.box(36, 45, 40, 52)  # east of 36°E held by RU; border on three sides
    write_features(tmp_path / "country.geojson", [(country, {})])
    write_features(tmp_path / "control_20260101.geojson", [(control, {})])
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "agreement",
            "derive",
            "--control",
            str(tmp_path / "control_20260101.geojson"),
            "--country",
            str(tmp_path / "country.geojson"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    show = json.loads(runner.invoke(app, ["agreement", "show", str(out), "--json"]).output)
    # The line is the 36°E meridian from 45 to 52°N less 2 km at each end.
    assert 772 < show["line_length_km"] < 776
    assert show["versions"][0]["valid_from"] == "2026-01-01T00:00:00+00:00"


def test_derive_errors(tmp_path):
    missing = runner.invoke(
        app,
        [
            "agreement",
            "derive",
            "--control",
            str(tmp_path / "none.geojson"),
            "--out",
            str(tmp_path / "o"),
            "--country",
            str(tmp_path / "c.geojson"),
        ],
    )
    assert missing.exit_code == 2 and "--control" in missing.output
    (tmp_path / "ctl.geojson").write_text("{not json")
    write_features(tmp_path / "c.geojson", [(shapely.box(30, 45, 40, 52), {})])
    bad = runner.invoke(
        app,
        [
            "agreement",
            "derive",
            "--control",
            str(tmp_path / "ctl.geojson"),
            "--date",
            "2026-01-01",
            "--out",
            str(tmp_path / "o"),
            "--country",
            str(tmp_path / "c.geojson"),
        ],
    )
    assert bad.exit_code == 1 and "ctl.geojson: not readable JSON" in bad.output


def test_derive_repairs_an_invalid_control_polygon_and_says_so(tmp_path):
    country = shapely.box(30, 45, 40, 52)
    bowtie = shapely.Polygon([(36, 45), (40, 52), (40, 45), (36, 52)])  # self-intersecting
    write_features(tmp_path / "country.geojson", [(country, {})])
    extra = shapely.box(36.5, 46, 37, 47)  # a second feature: the union must not choke on the bowtie
    write_features(tmp_path / "control_20260101.geojson", [(bowtie, {}), (extra, {})])
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "agreement",
            "derive",
            "--control",
            str(tmp_path / "control_20260101.geojson"),
            "--country",
            str(tmp_path / "country.geojson"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "warning: control_20260101.geojson: invalid control polygon repaired (feature 0: Self-intersection" in (
        result.output
    )
    assert "invalid polygon repaired" in (out / "agreement.yaml").read_text()


def test_ingest_refuses_the_future_unless_told_the_replay_s_end(tmp_path):
    """Times after the server's clock (plus a day) are refused; --not-after moves that bound for a replay."""
    from truceline.core import to_json_dict
    from truceline.core.examples import example_records

    row = to_json_dict(example_records()["sensor"])
    row["installed_at"] = "2099-01-01T00:00:00Z"
    path = tmp_path / "sensors.jsonl"
    path.write_text(json.dumps(row) + "\n")
    data = str(tmp_path / "data")
    r = runner.invoke(app, ["ingest", str(path), "--data", data])
    assert r.exit_code == 1 and "in the future" in r.output and "installed_at" in r.output
    r = runner.invoke(app, ["ingest", str(path), "--data", data, "--not-after", "2099-01-02T00:00:00Z"])
    assert r.exit_code == 0 and "1 new" in r.output, r.output
    r = runner.invoke(app, ["ingest", str(path), "--data", data, "--not-after", "2099-01-02"])  # a date: 00:00 UTC
    assert r.exit_code == 0 and "1 already stored" in r.output, r.output
    r = runner.invoke(app, ["ingest", str(path), "--data", data, "--not-after", "2099-13-02"])
    assert r.exit_code == 2 and "--not-after" in r.output


def test_commands_on_a_data_directory_without_a_store_say_so_and_make_none(tmp_path: Path) -> None:
    """A typo in --data must not be answered by an empty store and "0 of 0 windows" (exit 0)."""
    runner = CliRunner()
    missing = tmp_path / "nosuch"
    for args in (["process"], ["export", "--out", str(tmp_path / "x")], ["report", "--date", "2026-09-02"],
                 ["quarantine", "list"], ["review", "history", "v-1"]):  # fmt: skip
        res = runner.invoke(app, [*args, "--data", str(missing)])
        assert res.exit_code == 2 and f"--data: no store in {missing}" in res.output, (args, res.output)
        assert not missing.exists(), args
    res = runner.invoke(app, ["ingest", str(tmp_path / "nofile.jsonl"), "--data", str(missing)])
    assert res.exit_code == 2 and "no such file or folder" in res.output and not missing.exists()


def test_serve_on_a_busy_port_says_so_before_any_banner(tmp_path):
    """`serve` takes its port before announcing itself: a busy port is exit 2 naming it, and no banner."""
    import socket

    from truceline.store import SQLiteStore

    SQLiteStore(tmp_path / "data").close()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--data", str(tmp_path / "data"), "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in result.output
    assert "truceline API on" not in result.output
