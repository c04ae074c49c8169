/* The sidebar's controls: incidents or violations, the day, the time window, the filters, the list,
 * the panel's close button and sign-in / sign-out. */

import { WEAPON_CLASSES, $, esc, recId, state, toast } from "./core.js";
import { signIn, signOut } from "./api.js";
import { loadCoverage, loadLine, loadSensors } from "./layers.js";
import { layers, map } from "./map.js";
import { closePanel, openRecord, zoomTo } from "./panel.js";
import { addDays, clockAt, clockZone, periodLabel, periodMinutes } from "./period.js";
import { applyTimeWindow, drawHistogram, drawList, findLatestDay, loadRecords } from "./records.js";
import { SEVERITY_HELP, bindSummary, loadBulletinLink } from "./triage.js";

// ---- controls -------------------------------------------------------------------------------
function setRecords(kind, reload) {
  if (kind === "incident" && !state.canReadIncidents) kind = "violation";
  state.records = kind;
  document.querySelectorAll("#records-toggle button").forEach((b) => {
    b.classList.toggle("on", b.dataset.records === kind);
    if (b.dataset.records === "incident") b.disabled = !state.canReadIncidents;
  });
  const sel = $("f-kind");
  const list = kind === "incident" ? WEAPON_CLASSES : state.families.map((f) => [f.id, f.label]);
  $("f-kind-label").textContent = kind === "incident" ? "Weapon class" : "Rule family";
  sel.innerHTML = `<option value="">${kind === "incident" ? "All weapon classes" : "All rule families"}</option>` + list.map(([v, l]) => `<option value="${v}">${esc(l)}</option>`).join("");
  state.filters.kind = "";
  state.knownIds = null;
  if (reload) loadRecords(false);
}

function setDay(day) {
  state.day = day;
  $("day-input").value = day;
  state.knownIds = null;
  syncPeriod();
  loadLine();
  loadRecords(false);
  loadSensors();
  loadBulletinLink();
  if (map.hasLayer(layers.coverage)) loadCoverage();
}

/** The reporting day (Kyiv cut-off) or the UTC day: the same day named, another period. */
function setPeriod(mode) {
  state.period = mode === "utc" ? "utc" : "report";
  $("utc-toggle").checked = state.period === "utc";
  const u = new URL(window.location.href);
  if (state.period === "utc") u.searchParams.set("period", "utc"); else u.searchParams.delete("period");
  history.replaceState(null, "", u.pathname + u.search + u.hash);
  setDay(state.day);
}

/** The slider's span follows the period (23 or 25 hours across a daylight-saving change); the header its bounds. */
function syncPeriod() {
  const max = periodMinutes(), wasFull = state.toMin >= +$("time-to").max;
  for (const id of ["time-from", "time-to"]) $(id).max = String(max);
  if (wasFull || state.toMin > max) state.toMin = max;
  if (state.fromMin > state.toMin - 15) state.fromMin = 0;
  $("time-from").value = state.fromMin; $("time-to").value = state.toMin;
  $("period-label").textContent = state.day ? periodLabel() : "";
  $("day-input").setAttribute("aria-label", state.period === "utc" ? "Day (UTC)" : "Reporting day");
  syncTimeLabel();
}

function syncTimeLabel() {
  if (!state.day) return;
  $("time-label").textContent = `${clockAt(state.fromMin)}–${clockAt(state.toMin)}`;
  $("range-start").textContent = clockAt(0);
  $("range-end").textContent = clockAt(periodMinutes());
  $("clock-zone").textContent = clockZone();
}

function setSort(mode) {
  state.sort = mode === "severity" ? "severity" : "newest";
  $("sort-select").value = state.sort;
  drawList();
}

function bindControls() {
  document.querySelectorAll("#records-toggle button").forEach((b) => b.addEventListener("click", () => {
    if (b.dataset.records !== state.records) { closePanel(); setRecords(b.dataset.records, true); }
  }));
  $("day-input").addEventListener("change", (e) => { if (e.target.value) setDay(e.target.value); });
  $("day-prev").addEventListener("click", () => setDay(addDays(state.day, -1)));
  $("day-next").addEventListener("click", () => setDay(addDays(state.day, 1)));
  $("utc-toggle").addEventListener("change", (e) => setPeriod(e.target.checked ? "utc" : "report"));
  $("sort-select").addEventListener("change", (e) => setSort(e.target.value));
  $("sort-select").title = SEVERITY_HELP;
  $("sort-help").title = SEVERITY_HELP;
  bindSummary();
  $("day-latest").addEventListener("click", async () => setDay(await findLatestDay()));
  const from = $("time-from"), to = $("time-to");
  let tDebounce = null;
  const onRange = (which) => {
    let a = +from.value, b = +to.value;
    if (a > b - 15) { if (which === "from") a = b - 15; else b = a + 15; }
    from.value = a; to.value = b;
    state.fromMin = a; state.toMin = b;
    syncTimeLabel();
    applyTimeWindow();
    clearTimeout(tDebounce);
    tDebounce = setTimeout(() => { loadLine(); loadSensors(); loadCoverage(); }, 400);
  };
  from.addEventListener("input", () => onRange("from"));
  to.addEventListener("input", () => onRange("to"));
  for (const [id, key] of [["f-status", "status"], ["f-party", "party"], ["f-kind", "kind"], ["f-sector", "sector"]]) {
    $(id).addEventListener("change", (e) => {
      state.filters[key] = e.target.value;
      state.knownIds = null;
      loadRecords(false);
      if (key === "kind" && map.hasLayer(layers.coverage)) loadCoverage();
    });
  }
  $("f-clear").addEventListener("click", () => {
    for (const [id, key] of [["f-status", "status"], ["f-party", "party"], ["f-kind", "kind"], ["f-sector", "sector"]]) { $(id).value = ""; state.filters[key] = ""; }
    state.knownIds = null;
    loadRecords(false);
  });
  $("rec-list").addEventListener("click", (e) => {
    const li = e.target.closest("li[data-id]");
    if (!li) return;
    const f = state.visible.find((x) => recId(x) === li.dataset.id);
    openRecord(state.records, li.dataset.id, f);
    if (f) zoomTo(f);
  });
  $("panel-close").addEventListener("click", closePanel);
  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("token-input");
    const t = input.value.trim();
    input.value = "";
    if (!t) return;
    try {
      await signIn(t);
      window.location.reload();
    } catch (err) {
      toast(`Sign-in refused: ${err.message}`, true);
    }
  });
  $("logout-btn").addEventListener("click", async () => {
    try { await signOut(); } catch (err) { /* the reload shows what the server says */ }
    window.location.reload();
  });
  window.addEventListener("resize", () => drawHistogram());
}

export {
  setRecords,
  setDay,
  setPeriod,
  setSort,
  syncPeriod,
  syncTimeLabel,
  bindControls,
};
