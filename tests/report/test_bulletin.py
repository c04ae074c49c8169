"""The daily bulletin of a simulated day: structure (golden file), numbers, exports, public edition.

One internal bulletin with its PDF is built for the module; the public edition is built without
a PDF (through the command line). ``UPDATE_GOLDEN=1`` rewrites ``golden/bulletin_structure.json``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import shapely
from typer.testing import CliRunner

from tests.report.structure import export_schemas, html_structure, output_files
from truceline.adjudicate.aggregates import CutOff, aggregate
from truceline.agreement import Agreement
from truceline.cli import app
from truceline.geo.places import place_text
from truceline.report import OUTPUT_FILES, BulletinOptions, BulletinResult, build_bulletin
from truceline.service.export import current
from truceline.service.review import confirm
from truceline.store import SQLiteStore

pytestmark = pytest.mark.slow

DAY = "2026-09-02"
GOLDEN = Path(__file__).parent / "golden" / "bulletin_structure.json"
#: Ids of evidence as the simulator and fusion write them: never in a public bulletin.
EVIDENCE_ID = re.compile(r"\b(?:ev|inc|vio|obr|sgt|fom|sst|det)-[0-9A-Za-z]")


@pytest.fixture(scope="module")
def data_dir(report_world: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the processed store, with one finding confirmed by an analyst."""
    data = tmp_path_factory.mktemp("bulletin") / "data"
    shutil.copytree(report_world[0], data)
    store = SQLiteStore(data)
    try:
        start, end = CutOff().period(DAY)
        v = next(d.record for d in store.derived("violation", start, end) if d.record.status.value != "verified")
        confirm(store, "violation", v.id, "analyst-1", "two observers confirmed on the ground")
    finally:
        store.close()
    return data


@pytest.fixture(scope="module")
def internal(data_dir: Path, report_agreement: Agreement) -> BulletinResult:
    store = SQLiteStore(data_dir)
    try:
        return build_bulletin(store, report_agreement, DAY, data_dir / "bulletins" / DAY, BulletinOptions())
    finally:
        store.close()


@pytest.fixture(scope="module")
def public(data_dir: Path, report_world: tuple[Path, Path]) -> Path:
    out = data_dir / "bulletins" / f"{DAY}-public"
    res = CliRunner().invoke(
        app,
        ["report", "--date", DAY, "--data", str(data_dir), "--agreement", str(report_world[1]), "--public", "--no-pdf"],
    )
    assert res.exit_code == 0, res.output
    assert f"wrote {out}" in res.output
    return out


def _day_records(data_dir: Path) -> dict[str, Any]:
    store = SQLiteStore(data_dir)
    try:
        start, end = CutOff().period(DAY)
        vs = [current(d) for d in store.derived("violation", start, end)]
        return {
            "violations": vs,
            "events": [d.record for d in store.derived("event", start, end)],
            "incidents": [d.record for d in store.derived("incident", start - dt.timedelta(hours=1), end)],
            "reports": store.records("observer_report", start, end),
            "restrictions": store.records("freedom_of_movement_restriction", start, end),
            "claims": [c for c in store.records("claim") if c.period.start < end and c.period.end >= start],
        }
    finally:
        store.close()


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").split())


# ---------------------------------------------------------------------------------- golden
def test_structure_matches_the_golden_file(internal: BulletinResult, public: Path) -> None:
    html = (internal.out / "bulletin.html").read_text(encoding="utf-8")
    got = {
        "internal": {
            "html": html_structure(html),
            "files": output_files(internal.out),
            "exports": export_schemas(internal.out),
        },
        "public": {
            "html": html_structure((public / "bulletin.html").read_text(encoding="utf-8")),
            "files": output_files(public),
            "exports": export_schemas(public),
        },
    }
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert GOLDEN.is_file(), f"{GOLDEN} missing: run with UPDATE_GOLDEN=1 to write it"
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for edition in ("internal", "public"):
        for part in ("html", "files", "exports"):
            assert got[edition][part] == want[edition][part], f"{edition} {part} differs (UPDATE_GOLDEN=1 to accept)"


def test_sections_in_the_osce_order(internal: BulletinResult) -> None:
    titles = [s.title for s in internal.bulletin.sections]
    assert titles == [
        "Summary",
        "Ceasefire violations by region and sector",
        "Violations of the agreement's provisions",
        "Attribution",
        "Weapons in violation of withdrawal lines",
        "Claims and their verdicts",
        "Restrictions of the Mission's freedom of movement",
        "Sensor availability and interference",
        "Notable incidents",
        "Maps",
        "Trend",
        "Method, definitions and sources",
    ]
    regions = next(s for s in internal.bulletin.sections if s.id == "regions")
    assert "Donetsk region" in [s.title for s in regions.subsections]


# --------------------------------------------------------------------------------- numbers
def test_summary_numbers_equal_the_store(internal: BulletinResult, data_dir: Path, report_agreement: Agreement) -> None:
    rec = _day_records(data_dir)
    vs, events = rec["violations"], rec["events"]
    cited = {i for v in vs for i in v.observation_ids}
    extra = [r for r in rec["reports"] if r.id not in cited]
    # A fire mission's rounds heard but not located count too (per side: its rounds less those located).
    kinds = {e.id: e.kind.value for e in events}
    heard = sum(
        max(0, inc.rounds.best - sum(kinds.get(i) == kind for i in inc.event_ids))
        for inc in rec["incidents"]
        if inc.rounds.best > 1
        for kind, rep in (("launch", inc.launch_event_id), ("impact", inc.impact_event_id))
        if rep in kinds
    )
    assert heard > 0, "the day holds no fire mission with rounds heard but not located"
    n_cv = sum(e.count.best for e in events) + heard + sum(r.count.best for r in extra)
    n_boom = sum(e.count.best for e in events) + heard + sum(r.count.best for r in extra if r.kind.is_explosion)
    assert len(events) > 50 and len(vs) > 50
    text = _text((internal.out / "bulletin.html").read_text(encoding="utf-8"))
    assert f"The Mission recorded {n_cv:,} ceasefire violations, including {n_boom:,} explosions" in text
    assert f"the Mission made {len(vs):,} findings of violations of the agreement's provisions" in text
    assert f"The Mission assessed {len(rec['claims'])} claims" in text
    n_fom = len(rec["restrictions"])
    assert n_fom >= 1 and f"freedom of movement was restricted {n_fom} time" in text
    m = internal.manifest["counts"]
    assert (m["ceasefire_violations"], m["explosions"], m["findings"]) == (n_cv, n_boom, len(vs))

    # The findings table's per-rule totals are the aggregates of the store's findings.
    table = next(t for s in internal.bulletin.sections for t in s.tables if t.caption.startswith("Findings by rule"))
    by_rule = {r[0]: r[2] for r in table.rows}
    agg = aggregate(vs, report_agreement, CutOff(), ("day", "rule"))
    assert {r["rule"]: r["count"] for r in agg.rows if r["day"] == DAY} == by_rule
    assert table.total is not None and table.total[2] == len(vs)
    status = Counter(v.status.value for v in vs)
    assert table.total[3:] == [status[s] for s in ("unverified", "corroborated", "verified", "inconclusive", "refuted")]

    # Per-region counts: the region table sums to the totals.
    reg = next(
        t for s in internal.bulletin.sections for t in s.tables if t.caption.startswith("Ceasefire violations and")
    )
    assert sum(r[1] for r in reg.rows) == n_cv and sum(r[4] for r in reg.rows) == len(vs)
    by_oblast = aggregate(vs, report_agreement, CutOff(), ("oblast",))
    assert sorted(r["count"] for r in by_oblast.rows) == sorted(r[4] for r in reg.rows if r[4])


def test_metadata_names_the_bulletin_cut_off_versions(internal: BulletinResult, report_agreement: Agreement) -> None:
    meta = dict(internal.bulletin.metadata)
    assert meta["Bulletin"] == "bulletin-2026-09-02-internal"
    assert "2026-09-01T16:30:00Z to 2026-09-02T16:30:00Z" in meta["Reporting period"]
    assert meta["Data cut-off"] == "19:30 (Europe/Kyiv), 2 September 2026 (2026-09-02T16:30:00Z)"
    assert meta["Software"].startswith("truceline ")
    assert report_agreement.version in meta["Agreement in force"] and report_agreement.id in meta["Agreement in force"]
    assert meta["Line of contact"].startswith(report_agreement.versions[0].id)
    dt.datetime.fromisoformat(meta["Generated"].replace("Z", "+00:00"))
    html = (internal.out / "bulletin.html").read_text(encoding="utf-8")
    assert "imply no position on sovereignty" in html


def test_reviewed_status_is_reported(internal: BulletinResult, data_dir: Path) -> None:
    store = SQLiteStore(data_dir)
    try:
        (entry,) = [e for e in store.audit() if e.action == "confirm"]
    finally:
        store.close()
    with (internal.out / "findings.csv").open(encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["id"] == entry.target_id)
    assert row["status"] == "verified"


def test_attribution_only_as_graded(internal: BulletinResult, data_dir: Path) -> None:
    vs = _day_records(data_dir)["violations"]
    with (internal.out / "findings.csv").open(encoding="utf-8") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    for v in vs:
        r = rows[v.id]
        assert r["attribution_level"] == v.attribution.level.value
        assert r["attributed_party"] == (v.attribution.party.value if v.attribution.party else "")
    grades = next(
        t for s in internal.bulletin.sections for t in s.tables if t.caption == "Findings by attribution grade"
    )
    c = Counter(v.attribution.level.value for v in vs)
    assert [r[-1] for r in grades.rows] == [c["unattributed"], c["direction_of_fire"], c["origin_area"], c["party"]]
    # Jamming attributed in the status reports appears as graded interference findings.
    assert any(v.rule_id == "monitoring_interference.jammed" for v in vs)


# --------------------------------------------------------------------------------- outputs
def test_outputs_and_manifest(internal: BulletinResult) -> None:
    out = internal.out
    for name in OUTPUT_FILES:
        assert (out / name).is_file(), name
    assert (out / "maps" / "overview.png").is_file() and list((out / "maps").glob("region-*.png"))
    assert (out / "bulletin.pdf").read_bytes()[:5] == b"%PDF-"
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in man["files"]}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert listed == on_disk
    for f in man["files"]:
        data = (out / f["path"]).read_bytes()
        assert f["sha256"] == hashlib.sha256(data).hexdigest() and f["bytes"] == len(data)
    assert man["bulletin_id"] == "bulletin-2026-09-02-internal" and man["agreement"]["version"]
    # The HTML is self-contained: every image is embedded.
    html = (out / "bulletin.html").read_text(encoding="utf-8")
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)


def test_exports_carry_every_finding_at_full_precision(internal: BulletinResult, data_dir: Path) -> None:
    vs = {v.id: v for v in _day_records(data_dir)["violations"]}
    out = internal.out
    with (out / "findings.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["id"] for r in rows} == set(vs)
    for r in rows:
        v = vs[r["id"]]
        assert float(r["lon"]) == v.position.lon_deg and float(r["lat"]) == v.position.lat_deg
        assert r["event_ids"] == " ".join(v.event_ids)
    assert any(len(r["lon"].split(".")[1]) > 2 for r in rows)  # not rounded: internal bulletin
    gj = json.loads((out / "findings.geojson").read_text(encoding="utf-8"))
    assert len(gj["features"]) == len(vs)
    f0 = gj["features"][0]
    v0 = vs[f0["properties"]["id"]]
    assert f0["geometry"]["coordinates"] == pytest.approx([v0.position.lon_deg, v0.position.lat_deg], abs=1e-7)
    t = pq.read_table(out / "findings.parquet")
    assert t.num_rows == len(vs)
    pts = shapely.from_wkb(t.column("geometry").to_pylist())
    assert shapely.get_x(pts).tolist() == t.column("lon").to_pylist()
    geo = json.loads(t.schema.metadata[b"geo"])
    assert geo["columns"]["geometry"]["bbox"][0] == min(t.column("lon").to_pylist())
    kml = ET.parse(out / "findings.kml").getroot()
    assert len(kml.findall(".//{http://www.opengis.net/kml/2.2}Placemark")) == len(vs)
    for r in rows:  # the place, right after the position, described from it
        assert r["place"] == place_text(float(r["lon"]), float(r["lat"])) and re.match(
            r"(in |\d+ km [NSEW]{1,3} of )", r["place"]
        )
    assert list(rows[0])[list(rows[0]).index("lat") + 1] == "place"
    assert t.column("place").to_pylist() == [r["place"] for r in rows]


# ----------------------------------------------------------------------------------- public
def test_public_edition_rounds_and_omits_evidence_ids(public: Path, internal: BulletinResult) -> None:
    with (public / "findings.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and not {"id", "event_ids", "observation_ids", "incident_id"} & set(rows[0])
    withheld = [r for r in rows if r["lon"] == ""]
    assert withheld and all(r["family"] == "monitoring_interference" and r["lat"] == "" for r in withheld)
    for r in rows:
        if r["lon"]:
            assert round(float(r["lon"]), 2) == float(r["lon"]) and round(float(r["lat"]), 2) == float(r["lat"])
        assert re.fullmatch(r"pub-[0-9a-f]{16}", r["ref"])
    with (internal.out / "findings.csv").open(encoding="utf-8") as fh:
        internal_rows = {r["ref"]: r for r in csv.DictReader(fh)}
    for r in rows:  # the same findings, positions rounded from the internal ones
        i = internal_rows[r["ref"]]
        assert r["lon"] == "" or float(r["lon"]) == round(float(i["lon"]), 2)
    for name in ("bulletin.html", "findings.csv", "findings.geojson", "findings.kml"):
        text = (public / name).read_text(encoding="utf-8")
        assert not EVIDENCE_ID.search(text), (name, EVIDENCE_ID.search(text))
    html = (public / "bulletin.html").read_text(encoding="utf-8")
    assert "PUBLIC" in html and "positions rounded to 0.01 degree" in html
    assert not (public / "bulletin.pdf").exists()
    t = pq.read_table(public / "findings.parquet")  # the point formats hold the findings with a position
    assert "event_ids" not in t.column_names and t.num_rows == len(rows) - len(withheld)
    doc = json.loads((public / "findings.geojson").read_text(encoding="utf-8"))
    assert doc["position_withheld"] == len(withheld) and len(doc["features"]) == t.num_rows


def test_public_places_are_no_finer_than_public_positions(public: Path, internal: BulletinResult) -> None:
    """The public CSV's place is that of its rounded position (none where withheld), and the HTML prints
    places with the rounded coordinates only."""
    with (public / "findings.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with (internal.out / "findings.csv").open(encoding="utf-8") as fh:
        internal_rows = {r["ref"]: r for r in csv.DictReader(fh)}
    for r in rows:
        if not r["lon"]:
            assert r["place"] == ""
            continue
        assert r["place"] == place_text(float(r["lon"]), float(r["lat"]))
        assert internal_rows[r["ref"]]["place"] == place_text(float(internal_rows[r["ref"]]["lon"]),
                                                              float(internal_rows[r["ref"]]["lat"]))  # fmt: skip
    html = (public / "bulletin.html").read_text(encoding="utf-8")
    printed = re.findall(
        r"((?:in|\d+ km [NSEW]{1,3} of) [^<;]+? \([^)]*\)); (\d+\.\d+)\u00a0N, (\d+\.\d+)\u00a0E", html
    )
    assert printed, "the public bulletin prints places"
    for words, lat, lon in printed:
        assert len(lat.split(".")[1]) == 2 and words == place_text(float(lon), float(lat))


# ------------------------------------------------------------------------------ reproducible
def test_public_edition_is_the_same_whatever_the_hash_seed(data_dir: Path, report_world: tuple[Path, Path],
                                                           tmp_path: Path) -> None:  # fmt: skip
    """Two builds of one day differ only in their generation time: ties in the kinds table and the maps'
    family order are broken by name, never by a set's order (which changes with PYTHONHASHSEED)."""
    import os
    import re
    import subprocess
    import sys

    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "truceline", "report", "--date", DAY, "--data", str(data_dir),
                        "--agreement", str(report_world[1]), "--public", "--no-pdf", "--out", str(out)],
                       env=env, check=True, capture_output=True)  # fmt: skip
        outs.append(out)
    names = sorted(str(p.relative_to(outs[0])) for p in outs[0].rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(outs[1])) for p in outs[1].rglob("*") if p.is_file())
    assert any(n.endswith(".png") for n in names)
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
    for name in names:
        if name == "manifest.json":  # holds the HTML's hash, which holds the generation time
            continue
        a, b = ((o / name).read_bytes() for o in outs)
        if name.endswith(".html"):
            a, b = (stamp.sub("T", x.decode()).encode() for x in (a, b))
        assert a == b, name


def test_notable_incidents_list_the_largest_fire_missions_in_words(internal: BulletinResult, data_dir: Path) -> None:
    """The largest fire missions of the day (10 rounds or more, at most 5) are notable, each said in words:
    its count, weapon, where it was fired from and where it landed."""
    from truceline.report.monitoring import MISSION_MAX, MISSION_MIN_ROUNDS

    rounds = sorted((i.rounds.best for i in _day_records(data_dir)["incidents"]
                     if i.rounds.best >= MISSION_MIN_ROUNDS and i.window.start >= CutOff().period(DAY)[0]),
                    reverse=True)[:MISSION_MAX]  # fmt: skip
    assert rounds, "the day holds no fire mission of 10 rounds or more"
    table = next(t for s in internal.bulletin.sections for t in s.tables if t.caption == "Notable incidents")
    said = [str(r[1]) for r in table.rows if str(r[1]).startswith("Fire mission: about ")]
    assert sorted((int(t.split()[3]) for t in said), reverse=True) == rounds
    assert all((" fired from " in t or " landing " in t) and t.endswith(" s") for t in said)
