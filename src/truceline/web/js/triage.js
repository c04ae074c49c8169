/* Triage: the list's order (newest first, or by severity), the summary of the loaded records (counts by
 * party, weapon class, sector and rule family, each a shortcut to its filter), and the link to the
 * bulletin of the selected day. Sectors and parties' areas are judged in the browser, on the point the
 * caller was given (the API's sector filter judges the same point), from the agreement's layers. */

import { API, WEAPON_LABEL, $, esc, pointOf, props, recAttr, recStatus, recTimeMs, state } from "./core.js";
import { api } from "./api.js";
import { periodBounds } from "./period.js";

// ---- geometry: which polygon holds a point ------------------------------------------------------
function inRing(x, y, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i], [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
function inPolygon(pt, rings) {
  if (!rings.length || !inRing(pt[0], pt[1], rings[0])) return false;
  return !rings.slice(1).some((hole) => inRing(pt[0], pt[1], hole));
}
function inGeometry(pt, g) {
  if (!g || !pt) return false;
  if (g.type === "Polygon") return inPolygon(pt, g.coordinates);
  if (g.type === "MultiPolygon") return g.coordinates.some((rings) => inPolygon(pt, rings));
  return false;
}
/** The first feature of a layer (as the API's sector filter: the first listed wins) holding a point. */
function featureAt(fc, pt) {
  if (!fc || !pt) return null;
  return (fc.features || []).find((f) => inGeometry(pt, f.geometry)) || null;
}

/** The agreement's sector of a record's point (the id), or "none". */
function sectorOf(f) {
  const hit = featureAt(state.geo && state.geo.sectors, pointOf(f));
  return hit && hit.properties && hit.properties.id ? String(hit.properties.id) : "none";
}
function areaPartyAt(pt) {
  const hit = featureAt(state.geo && state.geo.areas, pt);
  const p = (hit && hit.properties) || {};
  return hit ? p.party || p.id || p.name || null : null;
}

// ---- severity ------------------------------------------------------------------------------------
const STATUS_RANK = { verified: 0, corroborated: 1, unverified: 2, inconclusive: 3, refuted: 4 };
const LEVEL_RANK = { party: 0, origin_area: 1, direction_of_fire: 1, unattributed: 2 };
const SEVERITY_HELP = "Severity order: status (verified > corroborated > unverified > inconclusive > refuted), " +
  "then attribution (party > direction of fire / origin area > unattributed), then fire across the line " +
  "(violations: rule fire_across_line; incidents: launch and impact in different parties' areas), " +
  "then a protected site (rule protected_site), then the number of rounds, then newest first.";

/** Fire across the line: 1, 0, or null when the record does not tell (an incident without both ends). */
function acrossLine(f) {
  const p = props(f);
  if (state.records === "violation") return String(p.rule_id || "").startsWith("fire_across_line") ? 1 : 0;
  if (!p.launch || !p.impact) return null;
  const a = areaPartyAt(p.launch), b = areaPartyAt(p.impact);
  return a && b ? (a !== b ? 1 : 0) : null;
}

function severityKey(f) {
  const p = props(f);
  const across = acrossLine(f);
  const rounds = p.rounds && p.rounds.best != null ? Number(p.rounds.best) : 0;
  const t = recTimeMs(f);
  return [
    STATUS_RANK[recStatus(f)] ?? 5,
    LEVEL_RANK[recAttr(f).level || "unattributed"] ?? 2,
    across === 1 ? 0 : 1,
    String(p.rule_id || "").startsWith("protected_site") ? 0 : 1,
    -rounds,
    isNaN(t) ? 0 : -t,
  ];
}

/** The records in the list's order: newest first, or by severity (see SEVERITY_HELP). */
function sortRecords(feats) {
  if (state.sort !== "severity") return feats.slice().sort((a, b) => recTimeMs(b) - recTimeMs(a));
  const keyed = feats.map((f) => [severityKey(f), f]);
  keyed.sort((x, y) => {
    for (let i = 0; i < x[0].length; i++) if (x[0][i] !== y[0][i]) return x[0][i] - y[0][i];
    return 0;
  });
  return keyed.map((k) => k[1]);
}

// ---- summary: counts by party, weapon class, sector, rule family ---------------------------------
/** The summary's groups: [key, heading, value of a record, label of a value, filter it sets or null]. */
function groups() {
  const family = (f) => String(props(f).rule_id || "").split(".")[0] || "unknown";
  const famLabel = Object.fromEntries(state.families.map((x) => [x.id, x.short || x.label]));
  const out = [
    ["party", "Party", (f) => recAttr(f).party || "unattributed", (v) => v, "f-party"],
    ["weapon", "Weapon", (f) => props(f).weapon_class || "unknown", (v) => WEAPON_LABEL[v] || v,
      state.records === "incident" ? "f-kind" : null],
    ["sector", "Sector", sectorOf, (v) => v, "f-sector"],
  ];
  if (state.records === "violation") out.push(["family", "Rule", family, (v) => famLabel[v] || v, "f-kind"]);
  return out;
}

function drawSummary() {
  const box = $("summary");
  if (!box) return;
  const html = groups().map(([key, head, valueOf, labelOf, filter]) => {
    const counts = new Map();
    for (const f of state.visible) { const v = valueOf(f); counts.set(v, (counts.get(v) || 0) + 1); }
    if (!counts.size) return "";
    const items = [...counts.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
    const chips = items.map(([v, n]) => {
      const usable = filter && !(key === "sector" && v === "none") && hasOption(filter, v);
      const on = usable && $(filter).value === v;
      const attrs = `data-testid="sum-${key}" data-key="${key}" data-value="${esc(v)}" data-count="${n}"`;
      const text = `${esc(labelOf(v))} <b>${n}</b>`;
      return usable
        ? `<button type="button" class="sum-chip${on ? " on" : ""}" ${attrs} data-filter="${filter}" title="${on ? "Clear this filter" : "Filter on " + esc(labelOf(v))}">${text}</button>`
        : `<span class="sum-chip static" ${attrs}>${text}</span>`;
    });
    return `<div class="sum-row" data-testid="summary-${key}"><span class="sum-h">${head}</span>${chips.join("")}</div>`;
  }).join("");
  box.innerHTML = html;
  box.hidden = !html;
}

function hasOption(selectId, value) {
  return [...$(selectId).options].some((o) => o.value === value);
}

/** A count clicked: set its filter (or clear it when already set), through the select's own change handler. */
function bindSummary() {
  $("summary").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-filter]");
    if (!b) return;
    const sel = $(b.dataset.filter);
    sel.value = sel.value === b.dataset.value ? "" : b.dataset.value;
    sel.dispatchEvent(new Event("change"));
  });
}

// ---- the day's bulletin ------------------------------------------------------------------------
let bulletinSerial = 0;
/** A link to the selected day's published bulletin (HTML, else PDF; the caller's default edition), or none. */
async function loadBulletinLink() {
  const serial = ++bulletinSerial;
  const a = $("bulletin-link");
  let list = [];
  try {
    list = await api(`${API}/bulletins`);
  } catch (e) { /* no bulletins for this caller */ }
  if (serial !== bulletinSerial) return;
  const day = state.day;
  const mine = (list || []).filter((b) => b.date === day);
  const pick = mine.find((b) => b.edition === "internal") || mine[0];
  const file = pick && ["bulletin.html", "bulletin.pdf"].find((n) => (pick.files || []).includes(n));
  if (!file) { a.hidden = true; a.removeAttribute("href"); return; }
  const [t0, t1] = periodBounds(day, "report");
  a.href = `${API}/bulletins/${encodeURIComponent(day)}/${file}?edition=${encodeURIComponent(pick.edition)}`;
  a.textContent = `Bulletin ${day}${file.endsWith(".pdf") ? " (PDF)" : ""}`;
  a.title = `The ${pick.edition} bulletin of reporting day ${day} (${new Date(t0).toISOString().slice(0, 16)}Z – ${new Date(t1).toISOString().slice(0, 16)}Z)`;
  a.dataset.edition = pick.edition;
  a.hidden = false;
}

export {
  SEVERITY_HELP,
  sectorOf,
  severityKey,
  sortRecords,
  drawSummary,
  bindSummary,
  loadBulletinLink,
};
