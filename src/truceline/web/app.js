/* truceline dashboard: plain JavaScript over the HTTP API (docs/api.md) and Leaflet, no build step.
 *
 * Signing in: the form exchanges a token for an HttpOnly session cookie (POST /api/v1/session), or
 * a link /#token=T does (the fragment never reaches the server nor its logs; it is removed from the
 * address bar and sent once, in a POST body). The page never keeps the token. A token in the query
 * string (?token=) is refused by the server.
 * URL parameters: ?poll=MS (polling period when the server cannot push, default 5000; ?push=0 polls always), ?day=YYYY-MM-DD,
 * ?records=incident|violation, ?period=utc (the UTC day instead of the bulletin's reporting day, which runs
 * from 19:30 Kyiv time of the previous evening), ?sort=severity.
 *
 * The entry module (index.html loads it as <script type="module"> after Leaflet): who the caller
 * is, the rule families, then the first view. The rest is in js/: core (constants, state, helpers),
 * api (requests, sign-in, the rule families), symbols (canvas markers), map (Leaflet map, legend), layers
 * (agreement layers, sensors, coverage), records (the day's records drawn), panel (a record and its
 * review), live (polling), controls (sidebar), period (reporting day or UTC day), triage (severity order,
 * counts by party / weapon / sector / rule, the day's bulletin link).
 */

import { API, $, esc, params, pointOf, state, toast } from "./js/core.js";
import { api, loadRules, query, signIn } from "./js/api.js";
import { bindControls, setRecords, setSort, syncPeriod } from "./js/controls.js";
import { loadLine, loadSensors, loadStaticLayers } from "./js/layers.js";
import { listen, showLedger } from "./js/live.js";
import { layerControl, layers, map } from "./js/map.js";
import { applyTimeWindow, findLatestDay, loadRecords } from "./js/records.js";
import { loadBulletinLink } from "./js/triage.js";

// ---- boot ----------------------------------------------------------------------------------
/** The caller per the session cookie: {role, name, party} of a signed-in holder, null for the public. */
async function whoAmI() {
  try {
    const me = await api(`${API}/whoami`);
    if (me && me.role && me.role !== "public") return me;
  } catch (e) {
    if (e.status === 401) toast("The session has ended: public view (sign in again).", true);
  }
  return null;
}

/** A link /#token=T: the token leaves the address bar at once and is exchanged for the session cookie. */
async function signInFromFragment() {
  const frag = new URLSearchParams(window.location.hash.slice(1));
  const token = frag.get("token");
  if (token === null) return;
  frag.delete("token");
  const rest = frag.toString();
  history.replaceState(null, "", window.location.pathname + window.location.search + (rest ? "#" + rest : ""));
  try {
    await signIn(token);
  } catch (e) {
    toast(`The link's token was not accepted (${e.message}): public view.`, true);
  }
}

async function boot() {
  localStorage.removeItem("truceline.token"); // where an older dashboard kept the token
  await signInFromFragment();
  bindControls();
  $("utc-toggle").checked = state.period === "utc";
  setSort(state.sort);

  // Who may read what: a signed-in analyst/observer/liaison reads incidents; the public reads violations.
  state.who = await whoAmI();
  state.signedIn = state.who !== null;
  if (state.signedIn) {
    try {
      await api(`${API}/incidents` + query({ limit: 1 }));
      state.canReadIncidents = true;
    } catch (e) {
      state.canReadIncidents = false;
    }
  }
  const who = $("who");
  if (state.signedIn && state.canReadIncidents) {
    who.innerHTML = `Signed in: <b>${esc(state.who.name || "?")}</b> (${esc(state.who.role || "?")})`;
    $("token-input").hidden = true; $("login-btn").hidden = true; $("logout-btn").hidden = false;
    state.mission = ["admin", "analyst", "observer"].includes(state.who.role);
    if (state.mission) layers.sensors.addTo(map);
  } else {
    who.textContent = state.signedIn ? "Signed in · public view" : "Public view";
    if (state.signedIn) { $("logout-btn").hidden = false; }
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
  syncPeriod();
  await Promise.all([loadLine(), loadRecords(false), loadSensors(), loadBulletinLink()]);
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
  await showLedger();
  document.body.dataset.ready = "1";
  listen();
}

// For debugging from the console (and the browser tests): the map, its layers and the state.
window.truceline = { map, layers, state, reload: () => loadRecords(false), redraw: () => applyTimeWindow() };

boot();
