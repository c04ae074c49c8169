/* The sidebar's controls: incidents or violations, the day, the time window, the filters, the list,
 * the panel's close button and sign-in / sign-out. */

import { WEAPON_CLASSES, $, dayOf, dayStartMs, esc, hhmm, recId, state, toast } from "./core.js";
import { signIn, signOut } from "./api.js";
import { loadCoverage, loadLine, loadSensors } from "./layers.js";
import { layers, map } from "./map.js";
import { closePanel, openRecord, zoomTo } from "./panel.js";
import { applyTimeWindow, drawHistogram, findLatestDay, loadRecords } from "./records.js";

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
  loadLine();
  loadRecords(false);
  loadSensors();
  if (map.hasLayer(layers.coverage)) loadCoverage();
}

function syncTimeLabel() {
  $("time-label").textContent = `${hhmm(state.fromMin)}–${hhmm(state.toMin)}`;
}

function bindControls() {
  document.querySelectorAll("#records-toggle button").forEach((b) => b.addEventListener("click", () => {
    if (b.dataset.records !== state.records) { closePanel(); setRecords(b.dataset.records, true); }
  }));
  $("day-input").addEventListener("change", (e) => { if (e.target.value) setDay(e.target.value); });
  $("day-prev").addEventListener("click", () => setDay(dayOf(dayStartMs(state.day) - 86400000)));
  $("day-next").addEventListener("click", () => setDay(dayOf(dayStartMs(state.day) + 86400000)));
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
  syncTimeLabel,
  bindControls,
};
