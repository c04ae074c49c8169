"""The rule families' declaration (truceline.agreement.families) and the outputs that read it."""

from __future__ import annotations

import re

import pytest

from truceline.agreement.families import FAMILIES, FAMILY_IDS, TRUTH_SOURCES, Family, family, family_of


def test_each_family_once_with_its_labels_and_colour_as_the_outputs_print_them() -> None:
    # What the dashboard lists, the bulletin's columns print and the maps and KML draw.
    assert [(f.id, f.label, f.short, f.colour) for f in FAMILIES] == [
        ("fire_across_line", "Fire across the line", "Across line", "#d6392b"),
        ("buffer_zone", "Buffer zone", "Buffer zone", "#ff7f0e"),
        ("withdrawal_zone", "Withdrawal zone", "Withdrawal", "#1f77b4"),
        ("protected_site", "Protected site", "Protected site", "#9467bd"),
        ("ceasefire_window", "Ceasefire window", "Window", "#8c564b"),
        ("freedom_of_movement", "Freedom of movement", "Movement", "#2ca02c"),
        ("monitoring_interference", "Monitoring interference", "Interference", "#17bdc2"),
    ]
    assert tuple(f.id for f in FAMILIES) == FAMILY_IDS
    for attr in ("id", "label", "short", "colour"):
        values = [getattr(f, attr) for f in FAMILIES]
        assert len(set(values)) == len(values), attr
    assert all(re.fullmatch(r"#[0-9a-f]{6}", f.colour) for f in FAMILIES)


def test_truth_sources_say_which_families_are_fire_and_which_place_an_asset() -> None:
    assert all(f.truth and set(f.truth) <= set(TRUTH_SOURCES) for f in FAMILIES)
    assert [f.id for f in FAMILIES if f.fire] == [
        "fire_across_line", "buffer_zone", "withdrawal_zone", "protected_site", "ceasefire_window",
    ]  # fmt: skip
    assert family("withdrawal_zone").truth == ("rounds", "sightings")
    assert family("freedom_of_movement").truth == ("restrictions",)
    assert [f.id for f in FAMILIES if f.places_asset] == ["monitoring_interference"]
    assert {s for f in FAMILIES for s in f.truth} == set(TRUTH_SOURCES)  # every source labels some family


def test_a_family_needs_known_truth_sources() -> None:
    with pytest.raises(ValueError, match="truth sources"):
        Family("x", "X", "X", "#000000", ("rumours",))
    with pytest.raises(ValueError, match="truth sources"):
        Family("x", "X", "X", "#000000", ())


def test_lookup_by_id_and_by_rule_id() -> None:
    assert family("buffer_zone") is FAMILIES[1]
    with pytest.raises(KeyError, match="unknown rule family 'nope'"):
        family("nope")
    assert family_of("buffer_zone.firing") == "buffer_zone"
    assert family_of("monitoring_interference") == "monitoring_interference"
    assert family_of("withdrawal_zone.sighting.extra") == "withdrawal_zone"


def test_the_report_scorer_and_queries_read_the_declaration() -> None:
    from truceline.report.text import FAMILY_COLOURS, FAMILY_SHORT
    from truceline.scoring.score import FAMILIES as SCORED
    from truceline.service.queries.features import ASSET_FAMILIES
    from truceline.sim.truth import FAMILIES as LABELLED

    assert list(FAMILY_COLOURS.items()) == [(f.id, f.colour) for f in FAMILIES]
    assert list(FAMILY_SHORT.items()) == [(f.id, f.short) for f in FAMILIES]
    assert SCORED == LABELLED == FAMILY_IDS
    assert ASSET_FAMILIES == ("monitoring_interference",)
