"""Benchmark figures are rendered from the results JSON only (``benchmarks/figures.py``).

The check passes on the repository as it is; a number edited by hand in a generated block, a results
.md or a JSON changed without re-rendering makes it fail, naming the place; the renderers show every
scenario and load a JSON holds, every registered rule family, compute the goals' verdicts from the
measured figures and count a peer only when it ran in the same run.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import figures  # noqa: E402
import figures_adjudication  # noqa: E402
import figures_fusion  # noqa: E402
import figures_geo  # noqa: E402

from truceline.adjudicate import RULES, rule_families  # noqa: E402


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The parts of the repository the figures touch, copied."""
    shutil.copytree(REPO / "benchmarks" / "results", tmp_path / "benchmarks" / "results")
    shutil.copy(REPO / "benchmarks" / "README.md", tmp_path / "benchmarks" / "README.md")
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    return tmp_path


def _edit_block(path: Path, block: str) -> None:
    """Change the first number inside block ``NAME:TABLE`` of ``path`` (as a hand edit would)."""
    text = path.read_text()
    begin = f"<!-- figures:{block} begin -->\n"
    start = text.index(begin) + len(begin)
    end = text.index(f"<!-- figures:{block} end -->")
    m = re.search(r"\d", text[start:end])
    assert m, f"no number in block {block}"
    i = start + m.start()
    path.write_text(text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1 :])


def test_the_check_passes_on_the_repository():
    assert figures.check(REPO) == []


def test_every_results_json_has_a_renderer_and_is_shown_in_the_readme():
    names = {p.stem for p in (REPO / "benchmarks" / "results").glob("*.json")}
    assert names == set(figures.renderers())
    readme = (REPO / "benchmarks" / "README.md").read_text()
    for name in names:
        assert f"<!-- figures:{name}:" in readme, name


def test_the_check_passes_on_a_copy(copy):
    assert figures.check(copy) == []


@pytest.mark.parametrize(
    ("doc", "block"),
    [
        ("benchmarks/README.md", "geo_points:summary"),
        ("benchmarks/README.md", "adjudication:families"),
        ("docs/fusion.md", "fusion_vs_pyocto:summary"),
    ],
)
def test_a_number_edited_in_a_block_fails_the_check(copy, doc, block):
    _edit_block(copy / doc, block)
    assert figures.check(copy) == [f"{doc}: block figures:{block} differs from its results JSON"]
    figures.write(copy)
    assert figures.check(copy) == []


def test_a_hand_edited_results_md_fails_the_check(copy):
    md = copy / "benchmarks" / "results" / "sim_day.md"
    md.write_text(md.read_text() + "\nA note by hand.\n")
    assert figures.check(copy) == ["benchmarks/results/sim_day.md: differs from what results/sim_day.json renders to"]


def test_a_json_changed_without_rendering_fails_the_check_and_render_follows_it(copy):
    path = copy / "benchmarks" / "results" / "geo_points.json"
    res = json.loads(path.read_text())
    res["points_per_s"] = 123_456
    path.write_text(json.dumps(res))
    problems = figures.check(copy)
    assert "benchmarks/README.md: block figures:geo_points:summary differs from its results JSON" in problems
    assert "benchmarks/results/geo_points.md: differs from what results/geo_points.json renders to" in problems
    figures.write(copy)
    assert figures.check(copy) == []
    readme = (copy / "benchmarks" / "README.md").read_text()
    assert "| throughput | 123,456 points/s | >= 500,000 points/s: **NOT met** |" in readme


def test_blocks_that_cannot_be_rendered_are_named(copy):
    doc = copy / "docs" / "extra.md"
    doc.write_text(
        "<!-- figures:geo_points:nosuch begin -->\n<!-- figures:geo_points:nosuch end -->\n"
        "<!-- figures:nobench:summary begin -->\nx\n<!-- figures:nobench:summary end -->\n"
        "<!-- figures:sim_day:summary begin -->\n"
    )
    assert figures.check(copy) == [
        "docs/extra.md: block figures:geo_points:nosuch: the geo_points renderer has no table 'nosuch'",
        "docs/extra.md: block figures:nobench:summary: no results/nobench.json or no renderer",
        "docs/extra.md: block figures:sim_day:summary has no end marker",
    ]


def test_results_without_a_renderer_fail_the_check(copy):
    (copy / "benchmarks" / "results" / "extra.json").write_text("{}")
    assert figures.check(copy) == ["benchmarks/results/extra.json: no renderer in benchmarks/figures.py"]


def test_publish_writes_the_json_then_renders_page_and_blocks_from_it(tmp_path):
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "README.md").write_text(
        "Prose.\n<!-- figures:geo_points:summary begin -->\nold\n<!-- figures:geo_points:summary end -->\nEnd.\n"
    )
    res = {"points": 10, "query_s": [2.0, 1.0], "points_per_s": 10, "goal_points_per_s": 5, "goal_met": False}
    page = figures.publish("geo_points", res, root=tmp_path)
    assert json.loads((tmp_path / "benchmarks" / "results" / "geo_points.json").read_text()) == res
    readme = (tmp_path / "benchmarks" / "README.md").read_text()
    assert "old" not in readme and readme.startswith("Prose.\n") and readme.endswith("End.\n")
    # The verdict comes from the measured figures, not from the flag the JSON holds.
    assert "| throughput | 10 points/s | >= 5 points/s: met |" in readme
    assert "best of 2 (each: 2.00, 1.00 s) | 1.00 s" in page
    assert figures.check(tmp_path) == []


def _family(n_truth: int, n_result: int, p: float | None, r: float | None) -> dict:
    return {"n_truth": n_truth, "n_result": n_result, "matched": 0, "precision": p, "recall": r,
            "recall_detectable": r, "wrong_party": 0}  # fmt: skip


def _scenario(fams: dict, f1: float, accuracy: float, blind: dict) -> dict:
    oracle = {f: _family(d["n_truth"], d["n_truth"], 1.0, 1.0) for f, d in fams.items()}
    return {
        "ingest_s": 0.1, "process_s": 1.0, "windows": 3, "event_f1": f1, "violations": fams, "rules_on_oracle": oracle,
        "claims": {"n": 4, "accuracy": accuracy, "false_flags_corroborated": 0, "by_truth": {"blind_spot": blind}},
    }  # fmt: skip


def test_the_adjudication_renderer_shows_every_scenario_and_every_registered_family():
    res = {
        "ingest": {"detections": 1000, "seconds": 6.5, "per_second": 154, "repeat_seconds": 6.0},
        "catalogue": {
            "steady": _scenario({"fire_across_line": _family(10, 9, 0.96, 0.97)}, 0.81, 0.9, {"unverifiable": 2}),
            "single_row": _scenario({"fire_across_line": _family(10, 3, 0.5, 0.1)}, 0.12, 0.25, {}),
            "bad_weather": _scenario(
                {"fire_across_line": _family(10, 2, 1.0, 0.2), "old_family": _family(0, 0, None, None)}, 0.2, 0.5,
                {"unverifiable": 1, "inconclusive": 1},
            ),
        },
    }  # fmt: skip
    out = figures_adjudication.render(res, ["fire_across_line", "buffer_zone"])
    fams = out.tables["families"]
    for name in ("steady", "single_row", "bad_weather"):
        assert f"| `{name}` |" in fams and f"| `{name}` |" in out.tables["claims"] and f"| `{name}` |" in out.page
    head = fams.splitlines()[0]
    assert "fire_across_line P / R | buffer_zone P / R | old_family P / R" in head  # registry first, nothing dropped
    assert "| `steady` | 0.96 / 0.97 | not measured | not measured |" in fams
    assert "| `bad_weather` | 1.00 / 0.20 | not measured | none |" in fams
    assert "| `single_row` | buffer_zone | not measured |" in out.page
    assert "met in 1 of 3 scenario-family pairs (**NOT met**)" in fams
    assert "Event F1 end to end on these scenarios: 0.12-0.81" in fams
    assert "Blind-spot claims unverifiable: 3 of 4. Verdict accuracy 0.25-0.90." in out.tables["claims"]
    assert "in **6.5 s**" in out.tables["ingest"] and out.tables["ingest"].endswith("Goal <= 5 s: **NOT met**.")


def test_the_adjudication_benchmark_shows_the_families_of_the_registry():
    ids = figures_adjudication.registry_families()
    assert ids == [f.id for f in rule_families()] and set(ids) == set(RULES)
    out = figures.renderers()["adjudication"](json.loads((REPO / "benchmarks/results/adjudication.json").read_text()))
    head = out.tables["families"].splitlines()[0]
    assert head.startswith("| scenario | " + " | ".join(f"{f} P / R" for f in ids) + " |")


def _load(f1: float, wall: float, **extra: object) -> dict:
    t = {"f1": f1, "precision": f1, "recall": f1, "wall_s": wall, "location_error_median_m": 10.0,
         "location_error_p90_m": 100.0, "ellipse_coverage": 0.95, "association_purity": 0.9,
         "side_correct_beyond_2km": 1.0, "wrong_party_rate": 0.0, "pairing_f1": 0.5,
         "latency_s": {"median": 1.0, "p90": 2.0, "max": 3.0}, "timings_s": {"associate": wall / 2},
         "vs_crb": {"error_median_m": 10.0, "crb_median_m": 8.0, "median_ratio_to_crb": 1.25}}  # fmt: skip
    return {"load": "a load", "simulated": {"detections": 1000, "detectable_events": 50}, "truceline": t, **extra}


def test_the_fusion_renderer_counts_a_peer_only_from_the_same_run():
    pyocto = {"f1": 0.4, "precision": 0.3, "recall": 0.5, "wall_s": 50.0, "ellipse_coverage": 0.8,
              "location_error_median_m": 600.0, "location_error_p90_m": 1500.0, "side_correct_beyond_2km": 0.0,
              "wrong_party_rate": None, "settings": {"tolerance": 0.5}}  # fmt: skip
    res = {
        "machine": {"cpus": 2, "python": "3.11.7"},
        "loads": {
            "small": _load(0.9, 2.0),
            "line_3k": _load(0.8, 4.0, pyocto={**pyocto, "same_run": True}),
            "line_10k": _load(0.7, 8.0, pyocto=pyocto),  # no same_run mark: another run
            "extra": _load(0.6, 1.0),
        },
    }
    out = figures_fusion.render(res)
    loads = out.tables["loads"]
    for name in res["loads"]:
        assert f"| `{name}`: a load |" in loads
    assert "| `line_3k`: a load | 1,000 | 0.800 | 4.0 | 0.400 / 50.0 | >= 0.97: **NOT met** |" in loads
    assert ">= 10x faster than PyOcto: met (12.5x)" in loads
    line_10k = next(r for r in loads.splitlines() if r.startswith("| `line_10k`"))
    assert "not measured here" in line_10k and "0.400" not in line_10k and "50.0" not in line_10k
    assert line_10k.endswith("| >= 10x faster than PyOcto: not measured here |")
    assert "| `small`: a load | 1,000 | 0.900 | 2.0 | not measured here | >= 0.99: **NOT met** | – |" in loads
    assert "fitted on the same load" in out.tables["peer"]
    assert "| `line_10k` | PyOcto (other run) |" in out.page and "| `line_3k` | PyOcto (same run) |" in out.page
    assert "PyOcto: `line_3k`: PyOcto F1 0.400 in 50 s against truceline's 0.800 in 4.0 s" in out.tables["summary"]


def test_the_fusion_goals_use_no_figure_measured_elsewhere():
    stored = json.loads((REPO / "benchmarks/results/fusion_vs_pyocto.json").read_text())
    for name, row in stored["loads"].items():
        g = figures_fusion.goals(name, row)
        if "speedup_vs_pyocto" in g:
            assert g["speedup_vs_pyocto"]["met"] is None, name  # PyOcto did not run in that run
    assert "note" not in json.dumps(stored)
    readme = (REPO / "benchmarks" / "README.md").read_text()
    assert "issue's" not in readme


def test_the_geo_renderer_computes_the_verdict_from_the_figures():
    res = {"points_per_s": 400_000, "goal_points_per_s": 500_000, "goal_met": True, "query_s": [1.0]}
    assert ">= 500,000 points/s: **NOT met**" in figures_geo.render(res).tables["summary"]
