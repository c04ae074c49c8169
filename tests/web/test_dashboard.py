"""The dashboard end to end in headless Chromium, against the real API over a processed store.

Analyst flow: load the map, filter by party, narrow the time window, open an incident, confirm it
with a reason, see the status and the audit entry (with the analyst as actor), then see new
incidents appear without a reload after more detections are ingested (through the API) and
processed; the analyst signs in by a link with the token in its fragment (never sent to the server),
exchanged for an HttpOnly session cookie. Public flow: no token, violations only (filtered by the
registry's rule families), no review controls, then signing in through the form and out again. No
page breaks the Content-Security-Policy.

Screenshots of every step go to ``tests/web/artifacts/`` (``NN-step.png``).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import LiveServer
from truceline.agreement import load_agreement
from truceline.agreement.families import FAMILIES
from truceline.ledger import Log
from truceline.service.process import process
from truceline.store import SQLiteStore

pytestmark = pytest.mark.slow

DAY = "2026-09-01"
DAY_START, DAY_END = f"{DAY}T00:00:00Z", "2026-09-02T00:00:00Z"
VIEWPORT = {"width": 1500, "height": 900}
#: Each list row's id and the place it shows (null without one).
ROW_PLACES = "rs => rs.map(r => [r.dataset.id, (r.querySelector('[data-testid=row-place]') || {}).textContent || null])"


def api_get(server: LiveServer, path: str, token: str | None = None) -> Any:
    req = urllib.request.Request(server.url + path, headers={"Accept": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read())


def api_post(server: LiveServer, path: str, body: bytes, content_type: str, token: str) -> Any:
    req = urllib.request.Request(
        server.url + path,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as res:
        return json.loads(res.read())


def day_incidents(server: LiveServer, **filters: str) -> dict[str, Any]:
    q = "&".join(f"{k}={v}" for k, v in {"start": DAY_START, "end": DAY_END, "limit": "5000", **filters}.items())
    return api_get(server, f"/api/v1/incidents?{q}", server.analyst_token)


def count_label(page: Any) -> int:
    return int(page.get_by_test_id("incident-count").get_attribute("data-count"))


def wait_count(page: Any, expected: int, timeout_ms: int = 15000) -> None:
    page.wait_for_function(
        "n => document.querySelector('[data-testid=incident-count]').dataset.count === String(n)",
        arg=expected,
        timeout=timeout_ms,
    )


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"))


def new_page(browser: Any, errors: list[str]) -> Any:
    """A page of its own browser context (its own cookies); script errors and CSP violations go to ``errors``."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(20000)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if "Content Security Policy" in m.text else None)
    return page


def session_cookie(page: Any) -> dict[str, Any] | None:
    return next((c for c in page.context.cookies() if c["name"] == "truceline_session"), None)


def test_analyst_filters_reviews_and_sees_new_incidents_live(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    s = live_server
    errors: list[str] = []
    page = new_page(browser, errors)
    t0 = time.monotonic()

    # 1. Load the map: layers, incidents, counts.
    assert urllib.request.urlopen(f"{s.url}/", timeout=10).status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:  # a token in a query string is refused
        urllib.request.urlopen(f"{s.url}/?token={s.analyst_token}", timeout=10)
    assert refused.value.code == 400
    # The UTC day (the default is the bulletin's reporting day, tests/web/test_triage.py): this flow counts UTC days.
    page.goto(f"{s.url}/?poll=1000&period=utc#token={s.analyst_token}")
    page.wait_for_selector("body[data-ready='1'][data-role=analyst]")
    assert "token" not in page.url and s.analyst_token not in page.url  # the token leaves the address bar
    cookie = session_cookie(page)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert s.analyst_token not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads the session
    assert s.analyst_token not in page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    page.wait_for_selector("[data-testid=incident-row]")
    total = day_incidents(s)["numberMatched"]
    assert total > 10
    wait_count(page, total)
    assert page.get_by_test_id("day-input").input_value() == DAY
    assert page.locator("#map .leaflet-overlay-pane path, #map .leaflet-pane path").count() > 10  # boundaries, line...
    assert page.get_by_test_id("disclaimer").is_visible()
    assert "not an agreed line" in page.get_by_test_id("disclaimer").inner_text()
    assert page.get_by_test_id("legend").is_visible()
    assert page.get_by_test_id("records-incidents").is_enabled()
    page.wait_for_function("() => document.getElementById('live-text').textContent.startsWith('Live ·')")  # pushed
    ledger = page.get_by_test_id("ledger-label")  # the transparency log's latest checkpoint, linked
    assert ledger.is_visible() and ledger.get_attribute("data-size") == str(Log.open(s.data).size)
    assert ledger.inner_text().startswith("Log 1 · ") and ledger.get_attribute("href") == "/api/v1/ledger/checkpoint"
    sensors = api_get(s, "/api/v1/sensors?limit=10000", s.analyst_token)
    assert sensors["numberMatched"] > 0 and all("health" in f["properties"] for f in sensors["features"])
    page.wait_for_function("n => truceline.layers.sensors.getLayers().length === n", arg=sensors["numberMatched"])
    page.wait_for_timeout(400)  # let the canvas settle for the picture
    shot(page, artifacts, "01-map")

    # 1b. Coverage (a detection-probability choropleth) loads when its layer is switched on.
    page.evaluate("() => { truceline.map.addLayer(truceline.layers.coverage); }")
    page.wait_for_function("() => truceline.layers.coverage.getLayers().length > 0", timeout=30000)
    page.wait_for_timeout(300)
    shot(page, artifacts, "01b-coverage")
    page.evaluate("() => { truceline.map.removeLayer(truceline.layers.coverage); }")

    # 2. Filter by party: the count follows the API's own count for that filter.
    by_party = {p: day_incidents(s, party=p)["numberMatched"] for p in ("UA", "RU", "unattributed")}
    party = next(p for p, n in sorted(by_party.items(), key=lambda kv: -kv[1]) if 0 < n < total)
    page.get_by_test_id("filter-party").select_option(party)
    wait_count(page, by_party[party])
    rows = page.get_by_test_id("incident-row")
    assert rows.count() == by_party[party]
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.party)")) == {party}
    # Each row says where, in words: the place the API gives the analyst for that incident.
    api_places = {f["id"]: f["properties"].get("place") for f in day_incidents(s, party=party)["features"]}
    shown = rows.evaluate_all(ROW_PLACES)
    assert any(p for _, p in shown) and all(api_places[i] == p for i, p in shown)
    shot(page, artifacts, "02-filter-party")
    page.get_by_test_id("filter-party").select_option("")
    wait_count(page, total)

    # 3. The time slider narrows the window client-side (from 22:00 UTC on).
    feats = day_incidents(s)["features"]
    later = sum(1 for f in feats if f["properties"]["window"]["start"] >= f"{DAY}T22:00:00")
    assert 0 < later < total
    page.get_by_test_id("time-from").evaluate("(el) => { el.value = 1320; el.dispatchEvent(new Event('input')); }")
    wait_count(page, later)
    assert page.get_by_test_id("time-label").inner_text() == "22:00–24:00"
    shot(page, artifacts, "03-time-window")
    page.get_by_test_id("time-from").evaluate("(el) => { el.value = 0; el.dispatchEvent(new Event('input')); }")
    wait_count(page, total)

    # 4. Open an incident (a paired launch -> impact if there is one) from the list.
    # Incidents heard by two contingents' sensors are verified automatically: confirm one that is not.
    open_ = [f for f in feats if f["properties"]["status"] != "verified"]
    verified_before = len(feats) - len(open_)
    paired = [f for f in open_ if f["properties"].get("launch") and f["properties"].get("impact")]
    target = (paired or open_)[0]
    inc_id = target["id"]
    page.locator(f"[data-testid=incident-row][data-id='{inc_id}']").click()
    panel = page.get_by_test_id("incident-panel")
    panel.wait_for(state="visible")
    assert page.get_by_test_id("panel-id").inner_text() == inc_id
    status = page.get_by_test_id("panel-status")
    status.wait_for()
    assert status.get_attribute("data-status") == target["properties"]["status"]
    assert page.get_by_test_id("event-card").count() >= 1
    assert page.get_by_test_id("review-box").is_visible()
    assert page.get_by_test_id("review-confirm").is_disabled()  # a reason is required first
    page.wait_for_timeout(300)
    shot(page, artifacts, "04-incident-panel")

    # 5. While the analyst types a reason, a colleague annotates the incident (through the API):
    #    the open panel refreshes by itself, shows the note and keeps the draft.
    reason = "Two independent sensor rows agree; patrol P-7 saw the crater"
    page.get_by_test_id("review-reason").fill(reason)
    note = json.dumps({"text": "Patrol P-7 tasked to the impact site"}).encode()
    api_post(s, f"/api/v1/review/incident/{inc_id}/annotate", note, "application/json", s.admin_token)
    page.locator("[data-testid=audit-entry][data-action=annotate][data-actor='ops.admin']").wait_for()
    assert page.get_by_test_id("review-reason").input_value() == reason

    # 6. Confirm it with the reason: status and audit trail update in the panel, the list follows.
    page.get_by_test_id("review-confirm").click()
    page.wait_for_selector("[data-testid=panel-status][data-status=verified]")
    entry = page.locator("[data-testid=audit-entry][data-action=confirm]")
    entry.wait_for()
    assert entry.get_attribute("data-actor") == s.analyst_name
    assert reason in entry.inner_text()
    page.wait_for_selector(f"[data-testid=incident-row][data-id='{inc_id}'][data-status=verified]")
    entry.scroll_into_view_if_needed()
    detail = api_get(s, f"/api/v1/incidents/{inc_id}", s.analyst_token)
    assert detail["incident"]["properties"]["status"] == "verified"
    assert [a["action"] for a in detail["audit"]] == ["annotate", "confirm"]
    page.wait_for_timeout(300)
    shot(page, artifacts, "05-confirmed")

    # 7. Filter on the new status: the automatically verified ones and the confirmed incident.
    page.get_by_test_id("filter-status").select_option("verified")
    wait_count(page, verified_before + 1)
    page.get_by_test_id("filter-status").select_option("")
    wait_count(page, total)

    # 8. Live: ingest the held-back detections through the API, process, and the page updates
    #    by itself (no reload: a marker set on window survives).
    page.evaluate("window.__noReload = 'still here'")
    before = set(page.get_by_test_id("incident-row").evaluate_all("rs => rs.map(r => r.dataset.id)"))
    res = api_post(s, "/api/v1/ingest/detection", s.held_back_csv.read_bytes(), "text/csv", s.admin_token)
    assert res["inserted"] > 50 and res["rejected"] == 0, res
    store = SQLiteStore(s.data)
    try:
        process(store, load_agreement(s.agreement))
    finally:
        store.close()
    new_total = day_incidents(s)["numberMatched"]
    assert new_total > total
    wait_count(page, new_total, timeout_ms=20000)
    assert page.evaluate("window.__noReload") == "still here"
    after = set(page.get_by_test_id("incident-row").evaluate_all("rs => rs.map(r => r.dataset.id)"))
    assert after - before
    assert page.locator("[data-testid=incident-row].new").count() >= 1  # flagged NEW in the list
    # The confirmed incident kept its status through the reprocessing.
    page.wait_for_selector(f"[data-testid=incident-row][data-id='{inc_id}'][data-status=verified]")
    page.wait_for_timeout(300)
    shot(page, artifacts, "06-live-new-incidents")

    # 7. Settlements: only the large cities on the overview, the places near the records once zoomed in.
    page.evaluate("() => { truceline.map.setZoom(6); }")
    page.wait_for_function("() => document.getElementById('map').dataset.settlements !== undefined")
    page.wait_for_timeout(500)
    assert int(page.locator("#map").get_attribute("data-settlements") or 0) <= 10
    page.evaluate("() => { truceline.map.setZoom(11); }")
    page.wait_for_timeout(500)
    page.wait_for_function("() => Number(document.getElementById('map').dataset.settlements) > 0", timeout=15000)
    assert page.locator(".place-label").count() > 0
    shot(page, artifacts, "07-settlements")
    page.close()
    assert not errors, errors
    print(f"analyst flow: {time.monotonic() - t0:.1f} s in the browser")


def test_public_view_shows_rounded_violations_and_no_review(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    s = live_server
    errors: list[str] = []
    page = new_page(browser, errors)
    page.goto(f"{s.url}/")
    page.wait_for_selector("body[data-ready='1']")
    assert page.get_by_test_id("public-note").is_visible()
    assert page.get_by_test_id("records-incidents").is_disabled()
    assert page.get_by_test_id("records-violations").get_attribute("class") == "on"
    page.wait_for_selector("[data-testid=incident-row]")
    expected = api_get(s, f"/api/v1/violations?start={DAY_START}&end={DAY_END}&limit=5000")["numberMatched"]
    assert expected > 0
    wait_count(page, expected)
    assert "violation" in page.get_by_test_id("incident-count").inner_text()

    # The rule-family filter lists the registry's families (read from GET /api/v1/rules), in its order,
    # and filters as the API does.
    kind = page.get_by_test_id("filter-kind")
    options = kind.locator("option").evaluate_all("os => os.map(o => [o.value, o.textContent])")
    assert options == [["", "All rule families"], *([f.id, f.label] for f in FAMILIES)]
    q = f"start={DAY_START}&end={DAY_END}&limit=5000"
    by_family = {f.id: api_get(s, f"/api/v1/violations?{q}&kind={f.id}")["numberMatched"] for f in FAMILIES}
    assert sum(by_family.values()) == expected
    family = max(by_family, key=lambda f: by_family[f])
    kind.select_option(family)
    wait_count(page, by_family[family])
    assert set(page.get_by_test_id("incident-row").evaluate_all("rs => rs.map(r => r.dataset.kind)")) == {family}
    public_places = {f["id"]: f["properties"].get("place")
                     for f in api_get(s, f"/api/v1/violations?{q}&kind={family}")["features"]}  # fmt: skip
    shown = page.get_by_test_id("incident-row").evaluate_all(ROW_PLACES)
    assert all(public_places[i] == p for i, p in shown)  # the public's places: those of the rounded positions
    kind.select_option("")
    wait_count(page, expected)

    page.get_by_test_id("incident-row").first.click()
    page.get_by_test_id("panel-status").wait_for()
    assert page.get_by_test_id("review-box").count() == 0  # no analyst controls
    assert page.get_by_test_id("disclaimer").is_visible()
    page.wait_for_timeout(300)
    shot(page, artifacts, "08-public-view")

    # Sign in through the token field: the page comes back as the analyst's, incidents enabled.
    page.get_by_test_id("token-input").fill(s.analyst_token)
    page.get_by_test_id("login-btn").click()
    page.wait_for_selector("body[data-ready='1'][data-role=analyst]")
    assert s.analyst_name in page.get_by_test_id("who").inner_text()
    assert page.get_by_test_id("records-incidents").get_attribute("class") == "on"
    assert session_cookie(page) is not None and page.get_by_test_id("token-input").input_value() == ""
    page.get_by_test_id("logout-btn").click()
    page.wait_for_selector("body[data-ready='1'][data-role=public]")
    assert session_cookie(page) is None
    # A wrong token: refused, said so, still the public.
    page.get_by_test_id("token-input").fill("not-a-token")
    page.get_by_test_id("login-btn").click()
    page.get_by_test_id("toast").wait_for()
    assert "refused" in page.get_by_test_id("toast").inner_text() and session_cookie(page) is None
    page.close()
    assert not errors, errors
