/* The record panel: an incident or a violation with its events, violations, attribution, audit
 * trail and (analyst, admin) the review actions. */

import {
  ACTIONS, API, LEVEL_LABEL, LIMIT, WEAPON_LABEL, WIDE_ELLIPSE_M, $, esc, fmtTime, num, partyLabel, pointOf, props, recId,
  state, toast,
} from "./core.js";
import { api, query } from "./api.js";
import { map } from "./map.js";
import { drawRecords, loadRecords } from "./records.js";

// ---- panel ---------------------------------------------------------------------------------
function kv(rows) {
  return `<dl class="kv">${rows.filter((r) => r && r[1] !== undefined && r[1] !== null && r[1] !== "").map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`;
}
function attributionHtml(a) {
  a = a || { level: "unattributed" };
  const ev = (a.evidence || []).map((e) => `<li>${esc(e)}</li>`).join("");
  return kv([
    ["Level", esc(LEVEL_LABEL[a.level] || a.level)],
    ["Party", a.party ? `<b>${esc(a.party)}</b>` : "—"],
    ["Probability", a.probability != null ? num(a.probability, 4) : null],
  ]) + (ev ? `<ul class="evidence" data-testid="evidence">${ev}</ul>` : `<p class="muted small">No attribution evidence: undetermined.</p>`);
}
function positionText(pos) {
  if (!pos) return null;
  const lon = pos.lon_deg != null ? pos.lon_deg : pos[0], lat = pos.lat_deg != null ? pos.lat_deg : pos[1];
  return `<span class="mono">${num(lat, 5)}° N, ${num(lon, 5)}° E</span>`;
}
function ellipseText(e) {
  const km = e.semi_major_m >= 2000;
  const f = (m) => (km ? num(m / 1000, 1) : num(m));
  const txt = `${f(e.semi_major_m)} × ${f(e.semi_minor_m)} ${km ? "km" : "m"}, azimuth ${num(e.angle_deg)}°`;
  return e.semi_major_m > WIDE_ELLIPSE_M ? `${txt} <span class="warn">poorly constrained</span>` : txt;
}

// A fire mission's count: "30 rounds (17-41)"; null for a single round.
function roundsText(r) {
  if (!r || r.high <= 1) return null;
  return `${esc(r.best)} rounds` + (r.low !== r.high ? ` <span class="muted">(${esc(r.low)}–${esc(r.high)})</span>` : "");
}
// A fire mission's launch or impact area: its centre and the semi-axes of its 95 % ellipse.
function areaText(a) {
  if (!a || !a.position) return null;
  const u = a.uncertainty || {};
  let axes = null;
  if (u.cov_en_m2) {
    const [[ee, en], [, nn]] = u.cov_en_m2;
    const mid = (ee + nn) / 2, rad = Math.sqrt(((ee - nn) / 2) ** 2 + en * en);
    axes = [Math.sqrt(Math.max(mid + rad, 0) * 5.991), Math.sqrt(Math.max(mid - rad, 0) * 5.991)];
  } else if (u.sigma_m != null) {
    axes = [u.sigma_m * Math.sqrt(5.991), u.sigma_m * Math.sqrt(5.991)];
  }
  return positionText(a.position) + (axes ? ` <span class="muted">95 % ${num(axes[0])} × ${num(axes[1])} m</span>` : "");
}

function eventCard(e) {
  const p = props(e);
  const unc = p.location_uncertainty || {};
  return `<div class="card" data-testid="event-card"><div class="card-head"><b>${esc(p.kind || "event")}</b><span class="mono">${esc(fmtTime(p.origin_time, true))}</span></div>` +
    kv([
      ["Id", `<span class="mono">${esc(p.id || e.id)}</span>`],
      ["Where", p.place ? esc(p.place) : null],
      ["Position", positionText(p.position)],
      ["95 % ellipse", p.ellipse ? ellipseText(p.ellipse) : null],
      ["Uncertainty", unc.sigma_m != null ? `σ ${num(unc.sigma_m, 0)} m` : unc.cov_en_m2 ? `σE ${num(Math.sqrt(unc.cov_en_m2[0][0]), 0)} m, σN ${num(Math.sqrt(unc.cov_en_m2[1][1]), 0)} m` : esc(unc.precision)],
      ["Weapon", esc(WEAPON_LABEL[p.weapon_class] || p.weapon_class)],
      ["Sensors", p.sensor_ids ? `${p.sensor_ids.length} (${p.detection_ids ? p.detection_ids.length : 0} detections)` : null],
      ["Residual RMS", p.residual_rms_s != null ? `${num(p.residual_rms_s * 1000, 0)} ms` : null],
      ["Quality", p.quality != null ? num(p.quality, 2) : null],
      ["Attribution", esc(partyLabel(p.attribution))],
    ]) +
    ((p.attribution && p.attribution.evidence && p.attribution.evidence.length) ? `<ul class="evidence">${p.attribution.evidence.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>` : "") +
    `</div>`;
}
function violationCard(v) {
  const p = props(v);
  const rp = p.rule_parameters || {};
  const extra = ["distance_km", "buffer_zone_km", "withdrawal_km", "site_id", "line_version"].filter((k) => rp[k] != null).map((k) => `${k} ${esc(rp[k])}`).join(" · ");
  return `<div class="card" data-testid="violation-card"><div class="card-head"><b>${esc(p.rule_id)}</b><span class="badge st-${esc(p.status || "unverified")}">${esc(p.status || "unverified")}</span></div>` +
    `<div class="sub">${esc(fmtTime(p.time, true))} · ${esc(partyLabel(p.attribution))}${p.confidence != null ? " · confidence " + num(p.confidence, 2) : ""}</div>` +
    (extra ? `<div class="sub mono">${extra}</div>` : "") + `</div>`;
}
function auditHtml(entries) {
  if (!entries || !entries.length) return `<p class="muted small" data-testid="audit-empty">No review actions yet.</p>`;
  return `<ul class="audit" data-testid="audit-list">` + entries.map((a) => {
    const before = a.before && a.before.status, after = a.after && a.after.status;
    const change = before || after ? ` <span class="muted">(${esc(before || "–")} → ${esc(after || "–")})</span>` : "";
    return `<li data-testid="audit-entry" data-action="${esc(a.action)}" data-actor="${esc(a.actor)}">` +
      `<span class="who">${esc(a.actor)}</span> <span class="act">${esc(a.action)}</span>${change}` +
      `<div class="when">${esc(fmtTime(a.at, true))}${a.seq != null ? " · #" + esc(a.seq) : ""}</div>` +
      (a.reason ? `<div class="why">“${esc(a.reason)}”</div>` : "") + `</li>`;
  }).join("") + `</ul>`;
}
function reviewHtml() {
  if (!state.signedIn || !state.canReadIncidents) return "";
  if (state.who && state.who.role && !["analyst", "admin"].includes(state.who.role)) return "";
  return `<div class="review" data-testid="review-box"><h3>Review</h3>` +
    `<textarea id="review-reason" data-testid="review-reason" placeholder="Reason (required): sources checked, patrol report, …"></textarea>` +
    `<div class="buttons">${ACTIONS.map(([a, label, cls]) => `<button type="button" class="${cls}" data-action="${a}" data-testid="review-${a}" disabled>${label}</button>`).join("")}</div>` +
    `<div class="msg" id="review-msg" data-testid="review-msg"></div></div>`;
}

async function openRecord(kind, id, feature) {
  state.selected = { kind, id, feature };
  highlightSelection();
  const panel = $("panel");
  panel.hidden = false;
  $("panel-kind").textContent = kind === "incident" ? "Incident" : "Violation";
  $("panel-id").textContent = id;
  const body = $("panel-body");
  if (body.dataset.id !== id) { // a refresh of the record on show keeps its content until the new one arrives
    body.dataset.id = "";
    body.innerHTML = `<p class="muted">Loading…</p>`;
  }
  try {
    let rec, events = [], violations = [], audit = [];
    if (kind === "incident") {
      const d = await api(`${API}/incidents/${encodeURIComponent(id)}`);
      rec = d.incident; events = d.events || []; violations = d.violations || []; audit = d.audit || [];
    } else {
      rec = feature || (state.features.find((f) => recId(f) === id));
      if (!rec) {
        const fc = await api(`${API}/violations` + query({ limit: LIMIT }));
        rec = (fc.features || []).find((f) => recId(f) === id);
      }
      if (state.signedIn) {
        try { audit = await api(`${API}/audit/${encodeURIComponent(id)}`); } catch (e) { audit = null; }
        if (audit && !Array.isArray(audit)) audit = audit.entries || audit.audit || audit.items || [];
      }
    }
    if (!state.selected || state.selected.id !== id) return;
    renderPanel(kind, id, rec, events, violations, audit);
  } catch (e) {
    body.innerHTML = `<p class="review msg err">Could not load ${esc(kind)} ${esc(id)}: ${esc(e.message)}</p>`;
  }
}

function renderPanel(kind, id, rec, events, violations, audit) {
  const p = props(rec);
  const st = p.status || "unverified";
  const body = $("panel-body");
  const same = body.dataset.id === id; // a refresh of the record on show: keep the scroll position
  const scroll = same ? body.scrollTop : 0;
  body.dataset.id = id;
  let html = `<div class="headline"><span class="badge st-${esc(st)}" data-testid="panel-status" data-status="${esc(st)}">${esc(st)}</span>` +
    `<b>${esc(kind === "incident" ? WEAPON_LABEL[p.weapon_class] || p.weapon_class || "incident" : p.rule_id)}</b></div>`;
  if (kind === "incident") {
    const w = p.window || {};
    const dur = w.start && w.end ? (Date.parse(w.end) - Date.parse(w.start)) / 1000 : null;
    html += `<h3>Incident</h3>` + kv([
      ["Time", `${esc(fmtTime(w.start, true))}${dur ? ` <span class="muted">(+${num(dur, 1)} s)</span>` : ""}`],
      ["Weapon class", esc(WEAPON_LABEL[p.weapon_class] || p.weapon_class)],
      ["Fire mission", roundsText(p.rounds)],
      ["Where", p.place ? esc(p.place) : null],
      ["Launch area", areaText(p.launch_area)],
      ["Impact area", areaText(p.impact_area)],
      ["Launch", (p.launch ? positionText(p.launch) : p.launch_event_id ? `<span class="mono">${esc(p.launch_event_id)}</span>` : "—") +
        (p.launch_place && p.launch_place !== p.place ? `<br><span class="muted">${esc(p.launch_place)}</span>` : "")],
      ["Impact", p.impact ? positionText(p.impact) : p.impact_event_id ? `<span class="mono">${esc(p.impact_event_id)}</span>` : "—"],
      ["95 % ellipse", p.ellipse ? ellipseText(p.ellipse) : null],
      ["Events", String((p.event_ids || []).length)],
      ["Observations", (p.observation_ids || []).length ? String(p.observation_ids.length) : null],
    ]);
  } else {
    const rp = p.rule_parameters || {};
    html += `<h3>Violation</h3>` + kv([
      ["Time", esc(fmtTime(p.time, true))],
      ["Rule", `<span class="mono">${esc(p.rule_id)} v${esc(p.rule_version)}</span>`],
      ["Kind", esc(p.violation_kind)],
      ["Weapon class", esc(WEAPON_LABEL[p.weapon_class] || p.weapon_class)],
      ["Fire mission", roundsText(p.rounds)],
      ["Where", p.place ? esc(p.place) : null],
      ["Position", positionText(p.position)],
      ["Confidence", p.confidence != null ? num(p.confidence, 2) : null],
      ["Distance", rp.distance_km != null ? `${esc(rp.distance_km)} km` : null],
      ["Incident", p.incident_id ? (state.canReadIncidents ? `<a class="inline" data-open-incident="${esc(p.incident_id)}">${esc(p.incident_id)}</a>` : `<span class="mono">${esc(p.incident_id)}</span>`) : null],
    ]);
  }
  html += `<h3>Attribution</h3>` + attributionHtml(p.attribution);
  if (events && events.length) html += `<h3>Events (${events.length})</h3>` + events.map(eventCard).join("");
  if (violations && violations.length) html += `<h3>Violations (${violations.length})</h3>` + violations.map(violationCard).join("");
  html += `<h3>Audit trail</h3>` + (audit === null ? `<p class="muted small">Not available to this role.</p>` : auditHtml(audit));
  html += reviewHtml();
  if (p.provenance) html += `<details class="prov"><summary>Provenance: ${esc(p.provenance.algorithm)} ${esc(p.provenance.algorithm_version)}</summary><pre>${esc(JSON.stringify(p.provenance, null, 1))}</pre></details>`;
  body.innerHTML = html;
  const openInc = body.querySelector("[data-open-incident]");
  if (openInc) openInc.addEventListener("click", () => openRecord("incident", openInc.dataset.openIncident));
  body.scrollTop = scroll;
  const reason = body.querySelector("#review-reason");
  if (reason) {
    // A draft reason survives live refreshes of the panel (kept per record until sent).
    if (state.draft && state.draft.id === id) reason.value = state.draft.text;
    reason.addEventListener("input", () => { state.draft = { id, text: reason.value }; });
    const buttons = body.querySelectorAll(".review button");
    const sync = () => buttons.forEach((b) => {
      const target = { confirm: "verified", dismiss: "refuted", inconclusive: "inconclusive" }[b.dataset.action];
      b.disabled = !reason.value.trim() || (target && target === st);
      b.title = target === st ? `Already ${st}` : !reason.value.trim() ? "Give a reason first" : "";
    });
    reason.addEventListener("input", sync);
    sync();
    buttons.forEach((b) => b.addEventListener("click", () => review(kind, id, b.dataset.action, reason.value.trim())));
  }
}

async function review(kind, id, action, reason) {
  const msg = $("review-msg");
  if (!reason) { msg.textContent = "A reason is required."; msg.className = "msg err"; return; }
  msg.textContent = "Sending…"; msg.className = "msg";
  try {
    const body = action === "annotate" ? { text: reason } : { reason };
    const entry = await api(`${API}/review/${kind}/${encodeURIComponent(id)}/${action}`, { method: "POST", body });
    state.draft = null;
    toast(`${action} recorded${entry && entry.actor ? " by " + entry.actor : ""}`);
    await openRecord(kind, id);
    await loadRecords(false);
    const m2 = $("review-msg");
    if (m2) { m2.textContent = `Recorded: ${action}${entry && entry.actor ? " by " + entry.actor : ""}.`; m2.className = "msg ok"; }
  } catch (e) {
    const m2 = $("review-msg");
    const why = e.status === 401 ? "sign in first" : e.status === 403 ? "your role may not review" : e.message;
    if (m2) { m2.textContent = `Refused (${e.status || "error"}): ${why}`; m2.className = "msg err"; }
  }
}

/** Bring a record into view: a launch -> impact pair whole, else its point, at a working zoom. */
function zoomTo(f) {
  const p = props(f), pt = pointOf(f);
  if (!pt) return;
  if (p.launch && p.impact) {
    map.fitBounds(L.latLngBounds([[p.launch[1], p.launch[0]], [p.impact[1], p.impact[0]]]), { padding: [90, 90], maxZoom: 13 });
  } else {
    map.setView([pt[1], pt[0]], Math.max(map.getZoom(), 11));
  }
}

function closePanel() {
  state.selected = null;
  $("panel").hidden = true;
  highlightSelection();
  setTimeout(() => map.invalidateSize(), 0);
}

function highlightSelection() {
  const id = state.selected && state.selected.id;
  document.querySelectorAll("#rec-list li").forEach((li) => li.classList.toggle("sel", li.dataset.id === id));
  drawRecords();
  setTimeout(() => map.invalidateSize(), 0);
}

export {
  openRecord,
  closePanel,
  zoomTo,
};
