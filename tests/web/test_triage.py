"""The dashboard's triage tools in headless Chromium, against the real API over a processed store.

- The day selector names the bulletin's reporting day by default (19:30 Kyiv time of the previous
  evening to 19:30 on the day), asks the API for exactly that period and shows what it answers; "UTC
  day" switches to the UTC calendar day.
- A link to the day's bulletin appears when one is published for the day, and only then.
- "Severity" orders the list by status, attribution, fire across the line, protected site, rounds, time.
- The summary counts the loaded records by party, weapon class, sector and rule family as the API's own
  filters count them, and a count sets its filter.

The scenario (tests/web/conftest.py) runs 2026-09-02 00:00-02:00 Kyiv time (2026-09-01 21:00-23:00 UTC):
reporting day 2026-09-02 but UTC day 2026-09-01, so the two periods tell apart. Screenshots at 1280x720
go to ``tests/web/artifacts/triage-*.png``.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import LiveServer
from tests.web.test_dashboard import api_get, api_post, count_label, new_page, wait_count
from truceline.adjudicate.cutoff import CutOff
from truceline.agreement import load_agreement
from truceline.report import BulletinOptions, build_bulletin
from truceline.store import SQLiteStore

pytestmark = pytest.mark.slow

DAY = "2026-09-02"  # the scenario's reporting day
VIEWPORT = {"width": 1280, "height": 720}
STATUS_RANK = {"verified": 0, "corroborated": 1, "unverified": 2, "inconclusive": 3, "refuted": 4}
LEVEL_RANK = {"party": 0, "origin_area": 1, "direction_of_fire": 1, "unattributed": 2}
ROW_IDS = "rs => rs.map(r => r.dataset.id)"


def iso(t: Any) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def period(day: str) -> tuple[str, str]:
    """The reporting day's bounds as the bulletin counts them (truceline.adjudicate.cutoff)."""
    start, end = CutOff().period(day)
    return iso(start), iso(end)


def records(s: LiveServer, collection: str, start: str, end: str, token: str | None = None, **filters: str) -> Any:
    q = urllib.parse.urlencode({"start": start, "end": end, "limit": "5000", **filters})
    return api_get(s, f"/api/v1/{collection}?{q}", token)


def open_page(browser: Any, url: str, errors: list[str]) -> Any:
    page = new_page(browser, errors)
    page.set_viewport_size(VIEWPORT)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    return page


def record_queries(page: Any, path: str) -> list[dict[str, str]]:
    """Collect the query strings of the page's requests to ``path`` from now on."""
    seen: list[dict[str, str]] = []

    def on_request(req: Any) -> None:
        u = urllib.parse.urlsplit(req.url)
        if u.path == path:
            seen.append(dict(urllib.parse.parse_qsl(u.query)))

    page.on("request", on_request)
    return seen


def summary(page: Any, key: str) -> dict[str, int]:
    chips = page.locator(f"[data-testid=sum-{key}]")
    return {v: int(n) for v, n in chips.evaluate_all("cs => cs.map(c => [c.dataset.value, c.dataset.count])")}


def test_reporting_day_utc_toggle_and_bulletin_link(live_server: LiveServer, browser: Any, artifacts: Path) -> None:
    s = live_server
    errors: list[str] = []
    page = new_page(browser, errors)
    page.set_viewport_size(VIEWPORT)
    asked = record_queries(page, "/api/v1/incidents")
    page.goto(f"{s.url}/#token={s.analyst_token}")
    page.wait_for_selector("body[data-ready='1'][data-role=analyst]")

    # The latest reporting day, its bounds in the header, and exactly that period asked of the API.
    start, end = period(DAY)
    assert (start, end) == ("2026-09-01T16:30:00Z", "2026-09-02T16:30:00Z")  # EEST: 19:30 Kyiv = 16:30 UTC
    assert page.get_by_test_id("day-input").input_value() == DAY
    label = page.get_by_test_id("period-label")
    assert label.inner_text() == "2026-09-02 reporting day: 09-01 19:30 – 09-02 19:30 Kyiv"
    assert not page.get_by_test_id("utc-toggle").is_checked()
    expected = records(s, "incidents", start, end, s.analyst_token)
    assert expected["numberMatched"] > 10
    wait_count(page, expected["numberMatched"])
    assert any(q.get("start") == start and q.get("end") == end for q in asked), asked
    shown = set(page.get_by_test_id("incident-row").evaluate_all(ROW_IDS))
    assert shown == {f["id"] for f in expected["features"]}
    assert page.get_by_test_id("time-label").inner_text() == "19:30–19:30"

    # The slider counts in Kyiv time from the cut-off: 330 min after 19:30 is 01:00 Kyiv, 22:00 UTC.
    later = records(s, "incidents", "2026-09-01T22:00:00Z", end, s.analyst_token)["numberMatched"]
    assert 0 < later < expected["numberMatched"]
    page.get_by_test_id("time-from").evaluate("(el) => { el.value = 330; el.dispatchEvent(new Event('input')); }")
    wait_count(page, later)
    assert page.get_by_test_id("time-label").inner_text() == "01:00–19:30"
    page.get_by_test_id("time-from").evaluate("(el) => { el.value = 0; el.dispatchEvent(new Event('input')); }")
    wait_count(page, expected["numberMatched"])
    # No bulletin published yet: no link.
    assert page.get_by_test_id("bulletin-link").is_hidden()
    page.screenshot(path=str(artifacts / "triage-01-reporting-day.png"))

    # The previous reporting day ends at 19:30 Kyiv on 1 September: before the scenario, nothing.
    prev_start, prev_end = period("2026-09-01")
    page.get_by_test_id("day-prev").click()
    wait_count(page, records(s, "incidents", prev_start, prev_end, s.analyst_token)["numberMatched"])
    assert count_label(page) == 0
    assert label.inner_text() == "2026-09-01 reporting day: 08-31 19:30 – 09-01 19:30 Kyiv"

    # "UTC day" on: the UTC calendar day 2026-09-01 holds the whole scenario.
    page.get_by_test_id("utc-toggle").check()
    utc = records(s, "incidents", "2026-09-01T00:00:00Z", "2026-09-02T00:00:00Z", s.analyst_token)["numberMatched"]
    assert utc > 0
    wait_count(page, utc)
    assert label.inner_text() == "2026-09-01 UTC day: 09-01 00:00 – 09-02 00:00 UTC"
    assert page.get_by_test_id("time-label").inner_text() == "00:00–24:00"
    assert any(q.get("start") == "2026-09-01T00:00:00Z" and q.get("end") == "2026-09-02T00:00:00Z" for q in asked)
    assert "period=utc" in page.url  # a reload keeps the choice
    page.get_by_test_id("utc-toggle").uncheck()
    wait_count(page, 0)

    # Publish the bulletin of 2026-09-02 (internal edition): its day shows the link, the other day none.
    store = SQLiteStore(s.data)
    try:
        build_bulletin(store, load_agreement(s.agreement), DAY, s.data / "bulletins" / DAY, BulletinOptions(pdf=False))
    finally:
        store.close()
    page.get_by_test_id("day-next").click()
    wait_count(page, expected["numberMatched"])
    link = page.get_by_test_id("bulletin-link")
    link.wait_for(state="visible")
    assert link.inner_text().startswith("Bulletin 2026-09-02")
    href = link.get_attribute("href") or ""
    assert href == f"/api/v1/bulletins/{DAY}/bulletin.html?edition=internal"
    req = urllib.request.Request(s.url + href, headers={"Authorization": f"Bearer {s.analyst_token}"})
    with urllib.request.urlopen(req, timeout=30) as res:
        assert res.status == 200 and "html" in res.headers["Content-Type"]
    page.screenshot(path=str(artifacts / "triage-02-bulletin-link.png"))
    page.get_by_test_id("day-prev").click()
    wait_count(page, 0)
    page.wait_for_function("() => document.querySelector('[data-testid=bulletin-link]').hidden")

    # The public may read only the public edition: none is published, so no link for it.
    public = open_page(browser, f"{s.url}/?day={DAY}", errors)
    public.wait_for_selector("[data-testid=incident-row]")
    public.wait_for_timeout(500)
    assert public.get_by_test_id("bulletin-link").is_hidden()
    public.close()
    page.close()
    assert not errors, errors


def violation_key(f: dict[str, Any]) -> tuple[Any, ...]:
    p = f["properties"]
    rule = p.get("rule_id") or ""
    rounds = (p.get("rounds") or {}).get("best") or 0
    return (
        STATUS_RANK[p["status"]],
        LEVEL_RANK[(p.get("attribution") or {}).get("level") or "unattributed"],
        0 if rule.startswith("fire_across_line") else 1,
        0 if rule.startswith("protected_site") else 1,
        -rounds,
        -(int(dt.datetime.fromisoformat(p["time"]).timestamp() * 1000)),  # newest first, to the ms as the page
    )


def test_sort_by_severity(live_server: LiveServer, browser: Any, artifacts: Path) -> None:
    s = live_server
    errors: list[str] = []
    start, end = period(DAY)
    feats = records(s, "incidents", start, end, s.analyst_token)["features"]
    # Confirm the oldest unverified, unattributed incident: newest first puts it last, severity near the top.
    candidates = [f for f in feats if f["properties"]["status"] == "unverified"]
    target = min(candidates, key=lambda f: f["properties"]["window"]["start"])
    body = json.dumps({"reason": "Patrol P-3 saw the crater"}).encode()
    api_post(s, f"/api/v1/review/incident/{target['id']}/confirm", body, "application/json", s.admin_token)

    page = open_page(browser, f"{s.url}/?day={DAY}#token={s.analyst_token}", errors)
    page.wait_for_selector(f"[data-testid=incident-row][data-id='{target['id']}'][data-status=verified]")
    rows = page.get_by_test_id("incident-row")
    newest = rows.evaluate_all(ROW_IDS)
    assert newest[0] != target["id"]
    sort = page.get_by_test_id("sort-select")
    assert "verified > corroborated" in (sort.get_attribute("title") or "")  # the order, documented
    assert "party > direction of fire" in (page.get_by_test_id("sort-help").get_attribute("title") or "")
    sort.select_option("severity")
    page.wait_for_function("() => document.querySelector('[data-testid=incident-row]').dataset.status === 'verified'")
    ranked = rows.evaluate_all("rs => rs.map(r => [r.dataset.id, r.dataset.status, r.dataset.level])")
    assert sorted(i for i, _, _ in ranked) == sorted(newest)
    keys = [(STATUS_RANK[st], LEVEL_RANK[lv]) for _, st, lv in ranked]
    assert keys == sorted(keys), ranked  # status first, then the attribution's grade
    assert target["id"] in [i for i, st, _ in ranked if st == "verified"]
    page.screenshot(path=str(artifacts / "triage-03-severity.png"))
    page.close()

    # Violations (public): every key is in the properties, so the whole order is checked.
    public = open_page(browser, f"{s.url}/?day={DAY}&sort=severity", errors)
    vs = records(s, "violations", start, end)["features"]
    wait_count(public, len(vs))
    assert public.get_by_test_id("sort-select").input_value() == "severity"
    by_id = {f["id"]: f for f in vs}
    shown = public.get_by_test_id("incident-row").evaluate_all(ROW_IDS)
    assert sorted(shown) == sorted(by_id)
    got = [violation_key(by_id[i]) for i in shown]
    assert got == sorted(got), got  # status, attribution, across the line, protected site, rounds, newest
    assert len(set(got)) > 3
    public.close()
    assert not errors, errors


def test_counts_match_the_api_and_set_filters(live_server: LiveServer, browser: Any, artifacts: Path) -> None:
    s = live_server
    errors: list[str] = []
    start, end = period(DAY)
    page = open_page(browser, f"{s.url}/?day={DAY}#token={s.analyst_token}", errors)
    total = records(s, "incidents", start, end, s.analyst_token)["numberMatched"]
    wait_count(page, total)

    def api_count(**filters: str) -> int:
        return int(records(s, "incidents", start, end, s.analyst_token, **filters)["numberMatched"])

    parties = summary(page, "party")
    assert sum(parties.values()) == total and parties
    assert parties == {p: api_count(party=p) for p in parties}
    weapons = summary(page, "weapon")
    assert sum(weapons.values()) == total
    assert weapons == {w: api_count(kind=w) for w in weapons}
    sectors = summary(page, "sector")
    assert sum(sectors.values()) == total
    named = {k: v for k, v in sectors.items() if k != "none"}
    assert named and named == {k: api_count(sector=k) for k in named}
    page.screenshot(path=str(artifacts / "triage-04-counts.png"))

    # A count is a filter: click the second largest party, then a weapon class; the list follows the API.
    party = sorted(parties, key=lambda p: -parties[p])[min(1, len(parties) - 1)]
    page.locator(f"[data-testid=sum-party][data-value='{party}']").click()
    wait_count(page, parties[party])
    assert page.get_by_test_id("filter-party").input_value() == party
    assert set(page.get_by_test_id("incident-row").evaluate_all("rs => rs.map(r => r.dataset.party)")) == {party}
    sub = summary(page, "weapon")
    assert sub == {w: api_count(party=party, kind=w) for w in sub}
    weapon = next(iter(sub))
    page.locator(f"[data-testid=sum-weapon][data-value='{weapon}']").click()
    wait_count(page, api_count(party=party, kind=weapon))
    assert page.get_by_test_id("filter-kind").input_value() == weapon
    page.locator(f"[data-testid=sum-party][data-value='{party}']").click()  # clicked again: the filter is cleared
    wait_count(page, api_count(kind=weapon))
    assert page.get_by_test_id("filter-party").input_value() == ""
    page.close()

    # Violations (public): counts by rule family and sector as the public API counts them.
    public = open_page(browser, f"{s.url}/?day={DAY}", errors)
    vtotal = records(s, "violations", start, end)["numberMatched"]
    wait_count(public, vtotal)
    families = summary(public, "family")
    assert sum(families.values()) == vtotal
    assert families == {f: records(s, "violations", start, end, kind=f)["numberMatched"] for f in families}
    vsectors = {k: v for k, v in summary(public, "sector").items() if k != "none"}
    assert vsectors == {k: records(s, "violations", start, end, sector=k)["numberMatched"] for k in vsectors}
    assert public.locator("button[data-testid=sum-weapon]").count() == 0  # no weapon filter for violations
    family = max(families, key=lambda f: families[f])
    public.locator(f"[data-testid=sum-family][data-value='{family}']").click()
    wait_count(public, families[family])
    assert public.get_by_test_id("filter-kind").input_value() == family
    public.screenshot(path=str(artifacts / "triage-05-public-counts.png"))
    public.close()
    assert not errors, errors
