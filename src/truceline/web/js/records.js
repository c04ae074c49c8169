/* The day's records (incidents or violations): loading with the filters, the time window, and
 * drawing them on the map, in the list, the counts and the histogram. */

import {
  API, LIMIT, LIST_MAX, STATUSES, STATUS_COLOUR, WIDE_ELLIPSE_M, $, esc, fillModeOf, fmtTime, isoZ,
  pointOf, partyLabel, props, recAttr, recId, recStatus, recTimeMs, recTitle, recWeapon, state, toast,
} from "./core.js";
import { api, query } from "./api.js";
import { Arrow, Symbol_, ellipseRing, symSvg } from "./symbols.js";
import { ellipseRenderer, incRenderer, layers, map } from "./map.js";
import { openRecord } from "./panel.js";
import { periodBounds, periodDayOf, periodMinutes, periodStartMs } from "./period.js";
import { drawSummary, sortRecords } from "./triage.js";

// ---- records -------------------------------------------------------------------------------
function recordsPath() { return state.records === "incident" ? `${API}/incidents` : `${API}/violations`; }

function recordQuery(withDay) {
  const q = { limit: LIMIT, status: state.filters.status, party: state.filters.party, kind: state.filters.kind, sector: state.filters.sector };
  if (withDay && state.day) {
    const [t0, t1] = periodBounds(state.day);
    q.start = isoZ(t0);
    q.end = isoZ(t1);
  }
  return q;
}

/** The day (reporting or UTC, per the toggle) of the newest record: collections come in time order, so read the last page. */
async function findLatestDay() {
  try {
    const head = await api(recordsPath() + query({ limit: 1 }));
    const n = head.numberMatched || 0;
    if (!n) return periodDayOf(Date.now());
    const tail = await api(recordsPath() + query({ limit: 100, offset: Math.max(0, n - 100) }));
    let best = NaN;
    for (const f of [...(head.features || []), ...(tail.features || [])]) {
      const t = recTimeMs(f);
      if (!isNaN(t) && !(t <= best)) best = t;
    }
    return periodDayOf(isNaN(best) ? Date.now() : best);
  } catch (e) {
    return periodDayOf(Date.now());
  }
}

async function loadRecords(fromPoll) {
  const serial = ++state.loadSerial;
  state.loading++;
  document.body.classList.add("loading");
  try {
    const fc = await api(recordsPath() + query(recordQuery(true)));
    if (serial !== state.loadSerial) return; // a newer request superseded this one
    const feats = fc.features || [];
    const ids = new Set(feats.map(recId));
    if (fromPoll && state.knownIds) {
      const until = Date.now() + 60000;
      for (const id of ids) if (!state.knownIds.has(id)) state.newIds.set(id, until);
    }
    state.knownIds = ids;
    state.features = feats;
    state.matched = fc.numberMatched != null ? fc.numberMatched : feats.length;
    applyTimeWindow();
  } catch (e) {
    if (serial !== state.loadSerial) return;
    toast(`Could not load ${state.records}s: ${e.message}`, true);
  } finally {
    state.loading--;
    if (!state.loading) document.body.classList.remove("loading");
  }
}

function applyTimeWindow() {
  const t0 = periodStartMs() + state.fromMin * 60000;
  const t1 = periodStartMs() + state.toMin * 60000;
  state.visible = state.features.filter((f) => {
    const t = recTimeMs(f);
    return isNaN(t) || (t >= t0 && t < t1);
  });
  drawRecords();
  drawList();
  drawCounts();
  drawSummary();
  drawHistogram();
}

/** The 95 % ellipses big enough to see at this zoom (>= 3 px semi-major); redrawn on zoom. */
function drawEllipses() {
  layers.ellipses.clearLayers();
  const z = map.getZoom();
  for (const f of state.visible) {
    const p = props(f), pt = pointOf(f);
    if (!pt || !p.ellipse || !p.ellipse.semi_major_m) continue;
    const mPerPx = (156543.03 * Math.cos((pt[1] * Math.PI) / 180)) / Math.pow(2, z);
    if (p.ellipse.semi_major_m / mPerPx < 3) continue;
    const colour = STATUS_COLOUR[recStatus(f)] || "#777";
    // A poorly constrained location (95 % ellipse over 10 km) is drawn as a faint dashed outline:
    // honest, but not a blot over the map.
    const wide = p.ellipse.semi_major_m > WIDE_ELLIPSE_M;
    L.polygon(ellipseRing(pt[0], pt[1], p.ellipse, wide ? 96 : 40), {
      renderer: ellipseRenderer, color: colour, weight: 1, opacity: wide ? 0.45 : 0.85, dashArray: wide ? "4 4" : null,
      fill: !wide, fillColor: colour, fillOpacity: 0.15, interactive: false,
    }).addTo(layers.ellipses);
  }
}
map.on("zoomend", () => drawEllipses());

function drawRecords() {
  layers.records.clearLayers();
  layers.arrows.clearLayers();
  drawEllipses();
  const now = Date.now();
  const sel = state.selected && state.selected.id;
  // Draw order on the shared canvas: ellipses, arrows, then markers, with the most severe last.
  const rank = { refuted: 0, unverified: 1, inconclusive: 2, corroborated: 3, verified: 4 };
  const feats = state.visible.slice().sort((a, b) => (rank[recStatus(a)] || 0) - (rank[recStatus(b)] || 0));
  for (const f of feats) {
    const p = props(f);
    const pt = pointOf(f);
    if (!pt) continue;
    const st = recStatus(f);
    const colour = STATUS_COLOUR[st] || "#777";
    if (p.launch && p.impact) {
      new Arrow([[p.launch[1], p.launch[0]], [p.impact[1], p.impact[0]]], {
        renderer: incRenderer, color: st === "refuted" ? "#c09090" : "#3c4350", weight: 1.4, opacity: 0.75,
        dashArray: st === "refuted" ? "4 3" : null, interactive: false, headPx: 9, tipBackPx: 9,
      }).addTo(layers.arrows);
      new Symbol_([p.launch[1], p.launch[0]], {
        renderer: incRenderer, radius: 2.5, shape: "square", fillMode: "full", color: "#3c4350", weight: 1, interactive: false,
      }).addTo(layers.arrows);
    }
  }
  for (const f of feats) {
    const pt = pointOf(f);
    if (!pt) continue;
    const id = recId(f);
    const st = recStatus(f);
    const colour = STATUS_COLOUR[st] || "#777";
    const isNew = (state.newIds.get(id) || 0) > now;
    const m = new Symbol_([pt[1], pt[0]], {
      renderer: incRenderer, radius: id === sel ? 8 : 6, weight: 2, color: st === "refuted" ? "#c98383" : colour,
      fillColor: colour, fillMode: fillModeOf(recAttr(f)), dash: st === "refuted",
      halo: id === sel ? "#1d4e89" : isNew ? "#ffcc33" : null,
    });
    m.bindTooltip(() => `<b>${esc(recTitle(f))}</b><br>${esc(fmtTime(new Date(recTimeMs(f)).toISOString(), true))}` +
      (props(f).place ? `<br>${esc(props(f).place)}` : "") + `<br>${esc(st)} · ${esc(partyLabel(recAttr(f)))}`, { className: "tip" });
    m.on("click", () => openRecord(state.records, id, f));
    m.addTo(layers.records);
  }
}

function drawList() {
  const ol = $("rec-list");
  const now = Date.now();
  const feats = sortRecords(state.visible);
  const rows = feats.slice(0, LIST_MAX).map((f) => {
    const id = recId(f), st = recStatus(f), a = recAttr(f);
    const isNew = (state.newIds.get(id) || 0) > now;
    const party = a && a.party ? a.party : "unattributed";
    return `<li data-testid="incident-row" data-id="${esc(id)}" data-status="${esc(st)}" data-party="${esc(party)}" data-level="${esc(a.level || "unattributed")}"` +
      ` data-kind="${esc(state.records === "incident" ? recWeapon(f) || "" : (props(f).rule_id || "").split(".")[0])}"` +
      ` class="${state.selected && state.selected.id === id ? "sel" : ""}${isNew ? " new" : ""}">` +
      `<span class="sym">${symSvg(STATUS_COLOUR[st], fillModeOf(a), st === "refuted")}</span>` +
      `<span class="t">${esc(fmtTime(new Date(recTimeMs(f)).toISOString()))}${isNew ? '<span class="new-tag">NEW</span>' : ""}</span>` +
      `<span class="badge st-${esc(st)}">${esc(st)}</span>` +
      `<span class="w">${esc(recTitle(f))}</span><span class="a">${esc(partyLabel(a))}</span>` +
      (props(f).place ? `<span class="p" data-testid="row-place">${esc(props(f).place)}</span>` : "") + `</li>`;
  });
  ol.innerHTML = rows.join("");
  $("list-more").textContent = feats.length > LIST_MAX ? `… and ${feats.length - LIST_MAX} more: narrow the time window or filter.` : feats.length ? "" : "No records for this day and these filters.";
}

function drawCounts() {
  const n = state.visible.length;
  const label = state.records === "incident" ? "incident" : "violation";
  const c = $("count");
  c.textContent = `${n.toLocaleString("en")} ${label}${n === 1 ? "" : "s"}`;
  c.dataset.count = String(n);
  const dayTotal = state.features.length;
  let note = "";
  if (n !== dayTotal) note = `of ${dayTotal.toLocaleString("en")} this day`;
  if (state.matched > dayTotal) note = `showing ${dayTotal.toLocaleString("en")} of ${state.matched.toLocaleString("en")} matched (limit)`;
  $("count-note").textContent = note;
  const by = {};
  for (const f of state.visible) by[recStatus(f)] = (by[recStatus(f)] || 0) + 1;
  const chips = $("status-chips");
  chips.innerHTML = STATUSES.filter((s) => by[s]).map((s) => `<span class="chip" data-status="${s}"><i></i>${by[s]} ${s}</span>`).join("");
  // Colours through the CSSOM: the CSP (style-src 'self') refuses inline style attributes.
  chips.querySelectorAll(".chip").forEach((c) => { c.querySelector("i").style.background = STATUS_COLOUR[c.dataset.status]; });
}

function drawHistogram() {
  const cv = $("histogram");
  const w = cv.clientWidth || 290, h = cv.clientHeight || 46;
  const dpr = window.devicePixelRatio || 1;
  cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const bins = 96, counts = new Array(bins).fill(0);
  const d0 = periodStartMs(), span = periodMinutes();
  for (const f of state.features) {
    const t = recTimeMs(f);
    if (isNaN(t)) continue;
    const i = Math.floor(((t - d0) / (span * 60000)) * bins);
    if (i >= 0 && i < bins) counts[i]++;
  }
  const max = Math.max(1, ...counts);
  const bw = w / bins;
  for (let i = 0; i < bins; i++) {
    if (!counts[i]) continue;
    const m = ((i + 0.5) * span) / bins;
    const inside = m >= state.fromMin && m <= state.toMin;
    ctx.fillStyle = inside ? "#1d4e89" : "#c5ccd8";
    const bh = Math.max(2, (counts[i] / max) * (h - 12));
    ctx.fillRect(i * bw + 0.5, h - bh, Math.max(1, bw - 1), bh);
  }
  ctx.strokeStyle = "#e1e4ea";
  ctx.beginPath(); ctx.moveTo(0, h - 0.5); ctx.lineTo(w, h - 0.5); ctx.stroke();
  ctx.fillStyle = "#9aa3b2"; ctx.font = "10px sans-serif";
  ctx.fillText(`peak ${max} per ${Math.round(span / bins)} min`, 2, 10);
}

export {
  findLatestDay,
  loadRecords,
  applyTimeWindow,
  drawRecords,
  drawList,
  drawHistogram,
};
