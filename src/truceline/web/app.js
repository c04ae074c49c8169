/* truceline dashboard: plain JavaScript over the HTTP API (docs/api.md) and Leaflet, no build step.
 *
 * URL parameters: ?token=T (stored in localStorage, then removed from the address bar),
 * ?poll=MS (live-refresh period, default 5000), ?day=YYYY-MM-DD, ?records=incident|violation.
 *
 * The entry module (index.html loads it as <script type="module"> after Leaflet): who the caller
 * is, the rule families, then the first view. The rest is in js/: core (constants, state, helpers),
 * api (requests, the rule families), symbols (canvas markers), map (Leaflet map, legend), layers
 * (agreement layers, sensors, coverage), records (the day's records drawn), panel (a record and its
 * review), live (polling), controls (sidebar).
 */

import { API, $, esc, params, pointOf, state, toast } from "./js/core.js";
import { api, loadRules, query } from "./js/api.js";
import { bindControls, setRecords, syncTimeLabel } from "./js/controls.js";
import { loadLine, loadSensors, loadStaticLayers } from "./js/layers.js";
import { poll } from "./js/live.js";
import { layerControl, layers, map } from "./js/map.js";
import { applyTimeWindow, findLatestDay, loadRecords } from "./js/records.js";

// ---- boot ----------------------------------------------------------------------------------
async function whoAmI() {
  try {
    const me = await api(`${API}/whoami`);
    if (me && (me.role || me.name)) return me;
  } catch (e) { /* not signed in */ }
  return null;
}

async function boot() {
  const urlToken = params.get("token");
  if (urlToken) {
    localStorage.setItem("truceline.token", urlToken);
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
  }
  state.token = localStorage.getItem("truceline.token") || null;
  bindControls();
  syncTimeLabel();

  // Who may read what: an analyst/observer/liaison token reads incidents; the public reads violations.
  if (state.token) {
    try {
      await api(`${API}/incidents` + query({ limit: 1 }));
      state.canReadIncidents = true;
    } catch (e) {
      state.canReadIncidents = false;
      if (e.status === 401) toast("The stored token was not accepted: public view.", true);
    }
    state.who = await whoAmI();
  }
  const who = $("who");
  if (state.token && state.canReadIncidents) {
    who.innerHTML = state.who ? `Signed in: <b>${esc(state.who.name || "?")}</b> (${esc(state.who.role || "?")})` : "Signed in";
    $("token-input").hidden = true; $("login-btn").hidden = true; $("logout-btn").hidden = false;
    state.mission = !state.who || ["admin", "analyst", "observer"].includes(state.who.role);
    if (state.mission) layers.sensors.addTo(map);
  } else {
    who.textContent = state.token ? "Token rejected · public view" : "Public view";
    if (state.token) { $("logout-btn").hidden = false; }
    $("public-note").hidden = false;
  }
  if (!state.mission) { layerControl.removeLayer(layers.sensors); layerControl.removeLayer(layers.coverage); }
  if (!state.canReadIncidents) { layerControl.removeLayer(layers.arrows); layerControl.removeLayer(layers.ellipses); }
  document.body.dataset.role = state.who && state.who.role ? state.who.role : state.canReadIncidents ? "reader" : "public";

  try {
    await loadRules(); // the rule families of the violations filter, from the registry
  } catch (e) {
    toast(`Could not load the rule families: ${e.message}`, true);
  }
  setRecords(params.get("records") === "violation" ? "violation" : "incident", false);
  await loadStaticLayers();
  const day = params.get("day") || (await findLatestDay());
  state.day = day;
  $("day-input").value = day;
  await Promise.all([loadLine(), loadRecords(false), loadSensors()]);
  // First view: the records if any, else the whole line.
  const pts = state.visible.map(pointOf).filter(Boolean).map((c) => [c[1], c[0]]);
  if (pts.length) map.fitBounds(L.latLngBounds(pts).pad(0.25), { maxZoom: 11 });
  else if (state.lineBounds) map.fitBounds(state.lineBounds, { padding: [20, 20] });
  try {
    const a = await api(`${API}/agreement`);
    state.agreement = a;
    if (a && a.title) {
      $("agreement-label").textContent = `${a.title}${a.version ? " · v" + a.version : ""}`;
      $("agreement-label").title = `${a.id || ""} · buffer ${a.buffer_zone_km} km each side`;
    }
  } catch (e) { /* optional */ }
  document.body.dataset.ready = "1";
  poll();
}

// For debugging from the console (and the browser tests): the map, its layers and the state.
window.truceline = { map, layers, state, reload: () => loadRecords(false), redraw: () => applyTimeWindow() };

boot();
