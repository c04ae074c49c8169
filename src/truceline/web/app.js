/* truceline dashboard: plain JavaScript over the HTTP API (docs/api.md) and Leaflet, no build step.
 *
 * URL parameters: ?token=T (stored in localStorage, then removed from the address bar),
 * ?poll=MS (live-refresh period, default 5000), ?day=YYYY-MM-DD, ?records=incident|violation.
 */
(function () {
  "use strict";

  // ---- constants --------------------------------------------------------------------------
  const API = "/api/v1";
  const LIMIT = 5000;
  const LIST_MAX = 400;
  const WIDE_ELLIPSE_M = 10000;
  const STATUSES = ["unverified", "corroborated", "verified", "inconclusive", "refuted"];
  const STATUS_COLOUR = {
    unverified: "#8a8f98",
    corroborated: "#e09f00",
    verified: "#d62828",
    inconclusive: "#7b4fb0",
    refuted: "#d9a5a5",
  };
  const HEALTH_COLOUR = { ok: "#2a9d8f", degraded: "#e9c46a", outage: "#9aa0a6", jammed: "#f4722b", destroyed: "#1d1d1d" };
  const PARTY_AREA = { UA: "#cfe0d8", RU: "#e6d8cf" };
  const WEAPON_CLASSES = [
    ["small_arms", "Small arms"], ["light_weapons", "Light weapons"], ["atgm", "ATGM"],
    ["mortar_le_120mm", "Mortar ≤ 120 mm"], ["artillery_lt_100mm", "Artillery < 100 mm"],
    ["artillery_ge_100mm", "Artillery ≥ 100 mm"], ["mlrs", "MLRS"], ["heavy_mlrs", "Heavy MLRS"],
    ["tactical_missile", "Tactical missile"], ["tank", "Tank"], ["armoured_combat_vehicle", "Armoured vehicle"],
    ["air_defence", "Air defence"], ["uav", "UAV"], ["unknown", "Unknown"],
  ];
  const RULE_FAMILIES = [
    ["fire_across_line", "Fire across the line"], ["buffer_zone", "Buffer zone"],
    ["withdrawal_zone", "Withdrawal zone"], ["protected_site", "Protected site"],
    ["ceasefire_window", "Ceasefire window"], ["freedom_of_movement", "Freedom of movement"],
    ["monitoring_interference", "Monitoring interference"],
  ];
  const WEAPON_LABEL = Object.fromEntries(WEAPON_CLASSES);
  const LEVEL_LABEL = { unattributed: "unattributed", direction_of_fire: "direction of fire", origin_area: "origin area", party: "party" };
  const ACTIONS = [
    ["confirm", "Confirm", "confirm"], ["dismiss", "Dismiss", "dismiss"],
    ["inconclusive", "Inconclusive", "inconclusive"], ["request", "Request verification", "request"],
    ["annotate", "Annotate", "annotate"],
  ];

  // ---- state ------------------------------------------------------------------------------
  const params = new URLSearchParams(window.location.search);
  const state = {
    token: null,
    who: null, // {name, role} when the API tells
    canReadIncidents: false,
    mission: false, // admin, analyst, observer: sensors, their health and coverage
    records: "incident",
    day: null,
    fromMin: 0,
    toMin: 1440,
    filters: { status: "", party: "", kind: "", sector: "" },
    features: [], // the day's records, as fetched
    visible: [],
    matched: 0,
    selected: null, // {kind, id}
    knownIds: null,
    newIds: new Map(), // id -> expiry ms
    seq: null,
    changeCount: null,
    pollMs: Math.max(500, parseInt(params.get("poll") || "5000", 10) || 5000),
    loading: 0,
    loadSerial: 0,
    draft: null, // {id, text}: the review reason being typed
    agreement: null,
  };

  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  // ---- API --------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, detail) {
      super(detail || `HTTP ${status}`);
      this.status = status;
    }
  }

  function detailText(body) {
    if (body == null) return "";
    if (typeof body === "string") return body.slice(0, 300);
    const d = body.detail !== undefined ? body.detail : body;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) return d.map((x) => (x && x.msg ? `${(x.loc || []).join(".")}: ${x.msg}` : JSON.stringify(x))).join("; ");
    return JSON.stringify(d);
  }

  async function api(path, opts) {
    opts = opts || {};
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    if (state.token) headers.Authorization = "Bearer " + state.token;
    let body = opts.body;
    if (body !== undefined && typeof body !== "string") {
      body = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const res = await fetch(path, { method: opts.method || "GET", headers, body, cache: "no-store" });
    const ct = res.headers.get("content-type") || "";
    const data = ct.includes("json") ? await res.json().catch(() => null) : await res.text();
    if (!res.ok) throw new ApiError(res.status, detailText(data));
    return data;
  }

  function query(obj) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(obj)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
    const s = q.toString();
    return s ? "?" + s : "";
  }

  // ---- time helpers -----------------------------------------------------------------------
  const dayStartMs = (day) => Date.parse(day + "T00:00:00Z");
  const dayOf = (ms) => new Date(ms).toISOString().slice(0, 10);
  const isoZ = (ms) => new Date(ms).toISOString().replace(".000Z", "Z");
  const hhmm = (min) => `${String(Math.floor(min / 60)).padStart(2, "0")}:${String(min % 60).padStart(2, "0")}`;
  function fmtTime(iso, withDate) {
    if (!iso) return "–";
    const d = new Date(iso);
    if (isNaN(d)) return String(iso);
    const s = d.toISOString();
    return (withDate ? s.slice(0, 10) + " " : "") + s.slice(11, 19) + "Z";
  }
  const num = (x, d) => (x == null || isNaN(x) ? "–" : Number(x).toFixed(d == null ? 0 : d));

  // ---- records: one accessor for incidents and violations ---------------------------------
  function props(f) { return (f && (f.properties || f)) || {}; }
  function recId(f) { return f.id != null ? String(f.id) : String(props(f).id); }
  function recTimeMs(f) {
    const p = props(f);
    const t = p.window ? p.window.start : p.time || p.origin_time;
    return t ? Date.parse(t) : NaN;
  }
  function recStatus(f) { return props(f).status || "unverified"; }
  function recAttr(f) { return props(f).attribution || { level: "unattributed" }; }
  function recWeapon(f) { return props(f).weapon_class || null; }
  function recTitle(f) {
    const p = props(f);
    if (state.records === "violation") return p.rule_id || "violation";
    return WEAPON_LABEL[p.weapon_class] || p.weapon_class || "incident";
  }
  function pointOf(f) {
    const p = props(f);
    if (f.geometry && f.geometry.type === "Point") return f.geometry.coordinates;
    if (p.impact) return p.impact;
    if (p.launch) return p.launch;
    if (p.position) return [p.position.lon_deg, p.position.lat_deg];
    return null;
  }
  function partyLabel(a) {
    if (!a || !a.level || a.level === "unattributed") return "unattributed";
    const prob = a.probability != null ? ` p=${Number(a.probability).toFixed(2)}` : "";
    return `${a.party || "?"} · ${LEVEL_LABEL[a.level] || a.level}${prob}`;
  }
  function fillModeOf(a) {
    const lvl = (a && a.level) || "unattributed";
    return { unattributed: "none", direction_of_fire: "dot", origin_area: "half", party: "full" }[lvl] || "none";
  }

  // ---- custom canvas symbols ----------------------------------------------------------------
  // A circle/square/diamond marker drawn on the canvas renderer with a fill mode:
  // "none" (hollow), "dot" (centre dot), "half" (left half filled), "full".
  L.Canvas.include({
    _updateTlSymbol: function (layer) {
      if (!this._drawing || layer._empty()) return;
      const p = layer._point, ctx = this._ctx, o = layer.options;
      const r = Math.max(Math.round(layer._radius), 1);
      const shape = o.shape || "circle";
      const path = () => {
        ctx.beginPath();
        if (shape === "square") ctx.rect(p.x - r, p.y - r, 2 * r, 2 * r);
        else if (shape === "diamond") {
          ctx.moveTo(p.x, p.y - r - 1); ctx.lineTo(p.x + r + 1, p.y); ctx.lineTo(p.x, p.y + r + 1); ctx.lineTo(p.x - r - 1, p.y); ctx.closePath();
        } else ctx.arc(p.x, p.y, r, 0, Math.PI * 2, false);
      };
      ctx.save();
      if (o.halo) { // a soft highlight ring (new or selected records)
        ctx.beginPath(); ctx.arc(p.x, p.y, r + 5, 0, Math.PI * 2, false);
        ctx.globalAlpha = 0.9; ctx.lineWidth = 3; ctx.strokeStyle = o.halo; ctx.stroke();
      }
      path();
      ctx.globalAlpha = o.bgOpacity == null ? 0.95 : o.bgOpacity; ctx.fillStyle = "#ffffff"; ctx.fill();
      const fc = o.fillColor || o.color;
      ctx.fillStyle = fc; ctx.globalAlpha = o.symFillOpacity == null ? 1 : o.symFillOpacity;
      if (o.fillMode === "full") { path(); ctx.fill(); }
      else if (o.fillMode === "half") {
        ctx.save(); path(); ctx.clip(); ctx.fillRect(p.x - r - 2, p.y - r - 2, r + 2, 2 * r + 4); ctx.restore();
      } else if (o.fillMode === "dot") {
        ctx.beginPath(); ctx.arc(p.x, p.y, Math.max(1.5, r / 2.6), 0, Math.PI * 2, false); ctx.fill();
      }
      path();
      ctx.setLineDash(o.dash ? [3, 2] : []);
      ctx.globalAlpha = o.opacity == null ? 1 : o.opacity; ctx.lineWidth = o.weight; ctx.strokeStyle = o.color; ctx.stroke();
      ctx.restore();
    },
    _updateTlArrow: function (layer) {
      this._updatePoly(layer, false);
      if (!this._drawing || !layer._parts || !layer._parts.length) return;
      const part = layer._parts[layer._parts.length - 1];
      if (part.length < 2) return;
      const a = part[part.length - 2], b = part[part.length - 1];
      const ang = Math.atan2(b.y - a.y, b.x - a.x), len = layer.options.headPx || 9;
      if (Math.hypot(b.x - a.x, b.y - a.y) < len * 0.8) return; // too short to carry a head
      const tip = { x: b.x - Math.cos(ang) * (layer.options.tipBackPx || 0), y: b.y - Math.sin(ang) * (layer.options.tipBackPx || 0) };
      const ctx = this._ctx;
      ctx.save();
      ctx.beginPath();
      ctx.moveTo(tip.x, tip.y);
      ctx.lineTo(tip.x - len * Math.cos(ang - 0.42), tip.y - len * Math.sin(ang - 0.42));
      ctx.lineTo(tip.x - len * 0.7 * Math.cos(ang), tip.y - len * 0.7 * Math.sin(ang));
      ctx.lineTo(tip.x - len * Math.cos(ang + 0.42), tip.y - len * Math.sin(ang + 0.42));
      ctx.closePath();
      ctx.globalAlpha = layer.options.opacity; ctx.fillStyle = layer.options.color; ctx.setLineDash([]); ctx.fill();
      ctx.restore();
    },
  });
  const Symbol_ = L.CircleMarker.extend({ _updatePath: function () { this._renderer._updateTlSymbol(this); } });
  const Arrow = L.Polyline.extend({ _updatePath: function () { this._renderer._updateTlArrow(this); } });

  /** The 95 % ellipse as a lat/lon ring: semi-axes in metres, azimuth of the major axis in
   * degrees clockwise from north (the codebook's convention). Local flat-earth offsets are fine
   * at these sizes (metres to a few km). */
  function ellipseRing(lon, lat, e, n) {
    n = n || 48;
    const a = +e.semi_major_m, b = +e.semi_minor_m;
    const az = ((+e.angle_deg || 0) * Math.PI) / 180;
    const mPerDegLat = 111320, mPerDegLon = 111320 * Math.cos((lat * Math.PI) / 180);
    const ring = [];
    for (let i = 0; i <= n; i++) {
      const t = (2 * Math.PI * i) / n;
      const u = a * Math.cos(t), v = b * Math.sin(t); // along / across the major axis
      const east = u * Math.sin(az) + v * Math.cos(az);
      const north = u * Math.cos(az) - v * Math.sin(az);
      ring.push([lat + north / mPerDegLat, lon + east / mPerDegLon]);
    }
    return ring;
  }

  // ---- map ----------------------------------------------------------------------------------
  const map = L.map("map", { zoomControl: true, preferCanvas: false, attributionControl: true, minZoom: 4, maxZoom: 16, zoomSnap: 0.5 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Boundaries © Мінрегіон CC BY-SA · line: illustrative (DeepStateMap-derived)");
  map.setView([48.3, 35.5], 6);
  const panes = [["base", 250], ["areas", 260], ["zones", 330], ["coverage", 340], ["line", 360], ["sites", 370], ["sensors", 380], ["ellipses", 410], ["incidents", 420]];
  for (const [name, z] of panes) map.createPane(name).style.zIndex = z;
  map.getPane("coverage").style.pointerEvents = "none";
  map.getPane("ellipses").style.pointerEvents = "none";
  map.getPane("zones").style.pointerEvents = "none";
  map.getPane("areas").style.pointerEvents = "none";
  const incRenderer = L.canvas({ pane: "incidents", padding: 0.3, tolerance: 3 });
  const sensorRenderer = L.canvas({ pane: "sensors", padding: 0.3 });
  const ellipseRenderer = L.canvas({ pane: "ellipses", padding: 0.3 });
  const covRenderer = L.canvas({ pane: "coverage", padding: 0.3 });

  const layers = {
    boundaries: L.layerGroup(),
    areas: L.layerGroup(),
    buffer: L.layerGroup(),
    disengagement: L.layerGroup(),
    sectors: L.layerGroup(),
    sites: L.layerGroup(),
    line: L.layerGroup(),
    sensors: L.layerGroup(),
    coverage: L.layerGroup(),
    ellipses: L.layerGroup(),
    arrows: L.layerGroup(),
    records: L.layerGroup(),
  };
  const overlayNames = {
    "Oblast boundaries": layers.boundaries,
    "Controlled areas": layers.areas,
    "Buffer zone": layers.buffer,
    "Disengagement areas": layers.disengagement,
    "Sectors": layers.sectors,
    "Protected sites": layers.sites,
    "Line of contact": layers.line,
    "Sensors (health)": layers.sensors,
    "Coverage (detection probability)": layers.coverage,
    "95 % ellipses": layers.ellipses,
    "Launch → impact": layers.arrows,
    "Incidents / violations": layers.records,
  };
  for (const k of ["boundaries", "areas", "buffer", "disengagement", "sectors", "sites", "line", "ellipses", "arrows", "records"]) layers[k].addTo(map);
  const layerControl = L.control.layers(null, overlayNames, { collapsed: true, position: "topright" }).addTo(map);
  layerControl.getContainer().setAttribute("data-testid", "layer-control");
  map.on("overlayadd", (e) => {
    if (e.layer === layers.coverage) loadCoverage();
    if (e.layer === layers.sensors) loadSensors();
  });

  // Legend
  function symSvg(colour, mode, dash, shape) {
    const r = 6, c = 8;
    const shapeEl = (attrs) => shape === "square"
      ? `<rect x="${c - r}" y="${c - r}" width="${2 * r}" height="${2 * r}" ${attrs}/>`
      : `<circle cx="${c}" cy="${c}" r="${r}" ${attrs}/>`;
    let inner = "";
    if (mode === "full") inner = shapeEl(`fill="${colour}"`);
    else if (mode === "half") inner = `<path d="M${c} ${c - r} A${r} ${r} 0 0 0 ${c} ${c + r} Z" fill="${colour}"/>`;
    else if (mode === "dot") inner = `<circle cx="${c}" cy="${c}" r="2.3" fill="${colour}"/>`;
    return `<svg width="16" height="16" viewBox="0 0 16 16">${shapeEl('fill="#fff"')}${inner}${shapeEl(`fill="none" stroke="${colour}" stroke-width="2"${dash ? ' stroke-dasharray="3 2"' : ""}`)}</svg>`;
  }
  const Legend = L.Control.extend({
    options: { position: "bottomright" },
    onAdd: function () {
      const div = L.DomUtil.create("div", "legend");
      div.setAttribute("data-testid", "legend");
      const st = STATUSES.map((s) => `<div class="row">${symSvg(STATUS_COLOUR[s], "full", s === "refuted")}<span>${s}</span></div>`).join("");
      const at = [["none", "unattributed"], ["dot", "direction of fire"], ["half", "origin area"], ["full", "party"]]
        .map(([m, t]) => `<div class="row">${symSvg("#3b4352", m)}<span>${t}</span></div>`).join("");
      const hl = Object.entries(HEALTH_COLOUR).map(([h, c]) => `<div class="row">${symSvg(c, "full", false, "square")}<span>${h}</span></div>`).join("");
      const geo = [
        ['<line x1="1" y1="8" x2="15" y2="8" stroke="#1b1f27" stroke-width="3"/>', "line of contact"],
        ['<rect x="1" y="4" width="14" height="8" fill="#f2c14e" fill-opacity=".35" stroke="#c9962a" stroke-dasharray="3 2"/>', "buffer zone"],
        [`<rect x="1" y="4" width="14" height="8" fill="${PARTY_AREA.UA}" stroke="#9fb8ac"/>`, "UA-controlled"],
        [`<rect x="1" y="4" width="14" height="8" fill="${PARTY_AREA.RU}" stroke="#bfa99a"/>`, "RU-controlled"],
        ['<rect x="1" y="3" width="14" height="10" fill="none" stroke="#51607a" stroke-dasharray="4 3"/>', "sector"],
        ['<path d="M8 1 L15 8 L8 15 L1 8 Z" fill="#2f6fb5" stroke="#fff"/>', "protected site"],
        ['<line x1="1" y1="13" x2="11" y2="5" stroke="#3c4350" stroke-width="1.5"/><path d="M15 2 L8.5 3.5 L12 7.5 Z" fill="#3c4350"/><rect x="0" y="11" width="4" height="4" fill="#3c4350"/>', "launch → impact"],
        ['<ellipse cx="8" cy="8" rx="7" ry="4" fill="#8a8f98" fill-opacity=".2" stroke="#8a8f98"/>', "95 % ellipse"],
      ].map(([g, t]) => `<div class="row"><svg width="16" height="16" viewBox="0 0 16 16">${g}</svg><span>${t}</span></div>`).join("");
      div.innerHTML = `
        <div class="legend-toggle" title="Show / hide the legend">Legend <span class="caret">▾</span></div>
        <div class="legend-body">
        <div class="cols"><div><h3>Status (colour)</h3>${st}</div><div><h3>Attribution (fill)</h3>${at}</div></div>
        <div class="cols"><div><h3>Map</h3>${geo}</div><div class="health-col"><h3>Sensor health</h3>${hl}<h3>Coverage</h3>` +
        `<div class="row"><span class="grad"></span><span>P(located)</span></div><div class="row muted cov-label">0 → 1</div></div></div>
        </div>`;
      const body = div.querySelector(".legend-body");
      div.querySelector(".legend-toggle").addEventListener("click", () => {
        body.hidden = !body.hidden;
        div.querySelector(".caret").textContent = body.hidden ? "▸" : "▾";
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    },
  });
  new Legend().addTo(map);
  L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);

  const WholeLine = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      const a = L.DomUtil.create("a", "leaflet-bar-part");
      const div = L.DomUtil.create("div", "leaflet-bar leaflet-control");
      div.appendChild(a);
      a.href = "#"; a.title = "Zoom to the whole line"; a.innerHTML = "⤢"; a.style.fontSize = "16px";
      a.setAttribute("data-testid", "zoom-line");
      L.DomEvent.on(a, "click", (e) => { L.DomEvent.preventDefault(e); if (state.lineBounds) map.fitBounds(state.lineBounds, { padding: [20, 20] }); });
      L.DomEvent.disableClickPropagation(div);
      return div;
    },
  });
  new WholeLine().addTo(map);

  // ---- toast ----------------------------------------------------------------------------------
  let toastTimer = null;
  function toast(msg, isErr) {
    const t = $("toast");
    t.textContent = msg;
    t.className = "toast" + (isErr ? " err" : "");
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, isErr ? 7000 : 3500);
  }

  // ---- static layers ----------------------------------------------------------------------
  async function loadLayer(name, q) {
    try {
      return await api(`${API}/layers/${name}` + query(q || {}));
    } catch (e) {
      if (e.status !== 404) console.warn("layer", name, e);
      return null;
    }
  }

  async function loadStaticLayers() {
    const [bounds, areas, buffer, sectors, sites, diseng] = await Promise.all(
      ["boundaries", "areas", "buffer", "sectors", "sites", "disengagement"].map((n) => loadLayer(n))
    );
    if (bounds) {
      L.geoJSON(bounds, {
        pane: "base", interactive: false,
        style: () => ({ color: "#a3abb8", weight: 0.8, fillColor: "#fbfaf6", fillOpacity: 1 }),
      }).addTo(layers.boundaries);
    }
    if (areas) {
      L.geoJSON(areas, {
        pane: "areas", interactive: false,
        style: (f) => {
          const p = f.properties || {};
          const party = p.party || p.id || p.name;
          return { color: party === "RU" ? "#bfa99a" : "#9fb8ac", weight: 0.6, fillColor: PARTY_AREA[party] || "#e3e3e3", fillOpacity: 0.55 };
        },
      }).addTo(layers.areas);
    }
    if (buffer) {
      L.geoJSON(buffer, {
        pane: "zones", interactive: false,
        style: () => ({ color: "#c9962a", weight: 1, dashArray: "4 3", fillColor: "#f2c14e", fillOpacity: 0.22 }),
      }).addTo(layers.buffer);
    }
    if (diseng) {
      L.geoJSON(diseng, { pane: "zones", interactive: false, style: () => ({ color: "#6a4fb0", weight: 1.2, fillOpacity: 0.08 }) }).addTo(layers.disengagement);
    }
    if (sectors) {
      const sel = $("f-sector");
      L.geoJSON(sectors, {
        pane: "zones", interactive: false,
        style: () => ({ color: "#51607a", weight: 1.3, dashArray: "6 4", fill: false }),
        onEachFeature: (f, lyr) => {
          const p = f.properties || {};
          const label = p.name || p.id;
          if (label) lyr.bindTooltip(`${esc(label)}${p.contingent ? " · " + esc(p.contingent) : ""}`, { permanent: true, direction: "center", className: "sector-label" });
          if (p.id) {
            const o = document.createElement("option");
            o.value = p.id; o.textContent = label && label !== p.id ? `${p.id} – ${label}` : p.id;
            sel.appendChild(o);
          }
        },
      }).addTo(layers.sectors);
      updateSectorLabels();
    }
    if (sites) {
      L.geoJSON(sites, {
        pane: "sites",
        pointToLayer: (f, ll) => {
          const p = f.properties || {};
          const g = L.layerGroup();
          if (p.radius_km) L.circle(ll, { pane: "sites", radius: p.radius_km * 1000, color: "#2f6fb5", weight: 1, dashArray: "3 3", fillOpacity: 0.05, interactive: false }).addTo(g);
          L.marker(ll, {
            pane: "sites",
            icon: L.divIcon({ className: "", iconSize: [14, 14], html: '<svg width="14" height="14"><path d="M7 0 L14 7 L7 14 L0 7 Z" fill="#2f6fb5" stroke="#fff" stroke-width="1.5"/></svg>' }),
          }).bindTooltip(`<b>${esc(p.name || p.id)}</b><br>${esc(p.category || "")}${p.radius_km ? ` · ${p.radius_km} km` : ""}`, { className: "tip" }).addTo(g);
          return g;
        },
      }).addTo(layers.sites);
    }
  }

  function updateSectorLabels() {
    const show = map.getZoom() >= 7;
    layers.sectors.eachLayer((g) => g.eachLayer && g.eachLayer((l) => {
      const t = l.getTooltip && l.getTooltip();
      if (!t) return;
      if (show && !l.isTooltipOpen()) l.openTooltip();
      if (!show && l.isTooltipOpen()) l.closeTooltip();
    }));
  }
  map.on("zoomend", updateSectorLabels);

  let lineAt = null;
  async function loadLine() {
    const at = state.day ? isoZ(dayStartMs(state.day) + state.toMin * 60000 - 1000) : null;
    if (at === lineAt) return;
    lineAt = at;
    const line = await loadLayer("line", { at });
    layers.line.clearLayers();
    if (!line) return;
    const gj = L.geoJSON(line, {
      pane: "line",
      style: () => ({ color: "#1b1f27", weight: 2.6, opacity: 0.9 }),
      onEachFeature: (f, l) => {
        const p = f.properties || {};
        l.bindTooltip(`Line of contact${p.id ? " " + esc(p.id) : ""}${p.valid_from ? "<br>in force from " + esc(fmtTime(p.valid_from, true)) : ""}`, { className: "tip", sticky: true });
      },
    }).addTo(layers.line);
    const b = gj.getBounds();
    if (b.isValid()) state.lineBounds = b;
  }

  // ---- sensors and coverage ------------------------------------------------------------------
  function layerTime() {
    return isoZ(dayStartMs(state.day || dayOf(Date.now())) + Math.min(state.toMin, 1439) * 60000);
  }

  async function loadSensors() {
    if (!map.hasLayer(layers.sensors) || !state.mission) return;
    try {
      const fc = await api(`${API}/sensors` + query({ at: layerTime(), limit: 10000 }));
      layers.sensors.clearLayers();
      for (const f of fc.features || []) {
        const c = f.geometry && f.geometry.coordinates;
        if (!c) continue;
        const p = f.properties || {};
        const h = p.health || "ok";
        new Symbol_([c[1], c[0]], {
          renderer: sensorRenderer, radius: 3.5, shape: "square", fillMode: "full",
          color: HEALTH_COLOUR[h] || "#777", weight: 1.2, bgOpacity: 1,
        }).bindTooltip(`<b>${esc(f.id || p.id)}</b> · ${esc(p.kind || "sensor")}<br>health: <b>${esc(h)}</b>${p.contingent ? "<br>" + esc(p.contingent) : ""}`, { className: "tip" })
          .addTo(layers.sensors);
      }
    } catch (e) {
      toast(`Sensors: ${e.message}`, true);
    }
  }

  async function loadCoverage() {
    if (!map.hasLayer(layers.coverage) || !state.mission) return;
    const wc = state.records === "incident" && state.filters.kind ? state.filters.kind : "artillery_ge_100mm";
    try {
      const fc = await api(`${API}/coverage` + query({ at: layerTime(), weapon_class: wc }));
      layers.coverage.clearLayers();
      L.geoJSON(fc, {
        renderer: covRenderer, pane: "coverage", interactive: false,
        style: (f) => {
          const p = (f.properties && f.properties.p) || 0;
          return { stroke: false, fillColor: covColour(p), fillOpacity: 0.12 + 0.3 * p };
        },
      }).addTo(layers.coverage);
      const lbl = document.querySelector(".legend .cov-label");
      if (lbl) lbl.textContent = `${WEAPON_LABEL[wc] || wc}, ${fmtTime(layerTime())}`;
    } catch (e) {
      toast(`Coverage: ${e.message}`, true);
    }
  }
  function covColour(p) {
    // light yellow (poor) -> blue (good)
    const stops = [[0, [255, 237, 160]], [0.5, [127, 205, 187]], [1, [37, 52, 148]]];
    let i = 0;
    while (i < stops.length - 2 && p > stops[i + 1][0]) i++;
    const [p0, c0] = stops[i], [p1, c1] = stops[i + 1];
    const t = Math.min(1, Math.max(0, (p - p0) / (p1 - p0)));
    return `rgb(${c0.map((v, k) => Math.round(v + (c1[k] - v) * t)).join(",")})`;
  }

  // ---- records -------------------------------------------------------------------------------
  function recordsPath() { return state.records === "incident" ? `${API}/incidents` : `${API}/violations`; }

  function recordQuery(withDay) {
    const q = { limit: LIMIT, status: state.filters.status, party: state.filters.party, kind: state.filters.kind, sector: state.filters.sector };
    if (withDay && state.day) {
      q.start = isoZ(dayStartMs(state.day));
      q.end = isoZ(dayStartMs(state.day) + 86400000);
    }
    return q;
  }

  /** The UTC day of the newest record: collections come in time order, so read the last page. */
  async function findLatestDay() {
    try {
      const head = await api(recordsPath() + query({ limit: 1 }));
      const n = head.numberMatched || 0;
      if (!n) return dayOf(Date.now());
      const tail = await api(recordsPath() + query({ limit: 100, offset: Math.max(0, n - 100) }));
      let best = NaN;
      for (const f of [...(head.features || []), ...(tail.features || [])]) {
        const t = recTimeMs(f);
        if (!isNaN(t) && !(t <= best)) best = t;
      }
      return isNaN(best) ? dayOf(Date.now()) : dayOf(best);
    } catch (e) {
      return dayOf(Date.now());
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
    const t0 = dayStartMs(state.day) + state.fromMin * 60000;
    const t1 = dayStartMs(state.day) + state.toMin * 60000;
    state.visible = state.features.filter((f) => {
      const t = recTimeMs(f);
      return isNaN(t) || (t >= t0 && t < t1);
    });
    drawRecords();
    drawList();
    drawCounts();
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
      m.bindTooltip(() => `<b>${esc(recTitle(f))}</b><br>${esc(fmtTime(new Date(recTimeMs(f)).toISOString(), true))}<br>${esc(st)} · ${esc(partyLabel(recAttr(f)))}`, { className: "tip" });
      m.on("click", () => openRecord(state.records, id, f));
      m.addTo(layers.records);
    }
  }

  function drawList() {
    const ol = $("rec-list");
    const now = Date.now();
    const feats = state.visible.slice().sort((a, b) => recTimeMs(b) - recTimeMs(a));
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
        `<span class="w">${esc(recTitle(f))}</span><span class="a">${esc(partyLabel(a))}</span></li>`;
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
    $("status-chips").innerHTML = STATUSES.filter((s) => by[s]).map((s) => `<span class="chip" data-status="${s}"><i style="background:${STATUS_COLOUR[s]}"></i>${by[s]} ${s}</span>`).join("");
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
    const d0 = dayStartMs(state.day);
    for (const f of state.features) {
      const t = recTimeMs(f);
      if (isNaN(t)) continue;
      const i = Math.floor(((t - d0) / 86400000) * bins);
      if (i >= 0 && i < bins) counts[i]++;
    }
    const max = Math.max(1, ...counts);
    const bw = w / bins;
    for (let i = 0; i < bins; i++) {
      if (!counts[i]) continue;
      const m = (i + 0.5) * 15;
      const inside = m >= state.fromMin && m <= state.toMin;
      ctx.fillStyle = inside ? "#1d4e89" : "#c5ccd8";
      const bh = Math.max(2, (counts[i] / max) * (h - 4));
      ctx.fillRect(i * bw + 0.5, h - bh, Math.max(1, bw - 1), bh);
    }
    ctx.strokeStyle = "#e1e4ea";
    ctx.beginPath(); ctx.moveTo(0, h - 0.5); ctx.lineTo(w, h - 0.5); ctx.stroke();
    ctx.fillStyle = "#9aa3b2"; ctx.font = "10px sans-serif";
    ctx.fillText(`peak ${max} per 15 min`, 2, 10);
  }

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
    ]) + (ev ? `<ul class="evidence" data-testid="evidence">${ev}</ul>` : `<p class="muted" style="font-size:12px">No attribution evidence: undetermined.</p>`);
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

  function eventCard(e) {
    const p = props(e);
    const unc = p.location_uncertainty || {};
    return `<div class="card" data-testid="event-card"><div class="card-head"><b>${esc(p.kind || "event")}</b><span class="mono">${esc(fmtTime(p.origin_time, true))}</span></div>` +
      kv([
        ["Id", `<span class="mono">${esc(p.id || e.id)}</span>`],
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
    if (!entries || !entries.length) return `<p class="muted" style="font-size:12px" data-testid="audit-empty">No review actions yet.</p>`;
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
    if (!state.token || !state.canReadIncidents) return "";
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
        if (state.token) {
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
        ["Launch", p.launch ? positionText(p.launch) : p.launch_event_id ? `<span class="mono">${esc(p.launch_event_id)}</span>` : "—"],
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
        ["Position", positionText(p.position)],
        ["Confidence", p.confidence != null ? num(p.confidence, 2) : null],
        ["Distance", rp.distance_km != null ? `${esc(rp.distance_km)} km` : null],
        ["Incident", p.incident_id ? (state.canReadIncidents ? `<a class="inline" data-open-incident="${esc(p.incident_id)}">${esc(p.incident_id)}</a>` : `<span class="mono">${esc(p.incident_id)}</span>`) : null],
      ]);
    }
    html += `<h3>Attribution</h3>` + attributionHtml(p.attribution);
    if (events && events.length) html += `<h3>Events (${events.length})</h3>` + events.map(eventCard).join("");
    if (violations && violations.length) html += `<h3>Violations (${violations.length})</h3>` + violations.map(violationCard).join("");
    html += `<h3>Audit trail</h3>` + (audit === null ? `<p class="muted" style="font-size:12px">Not available to this role.</p>` : auditHtml(audit));
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

  // ---- live refresh ----------------------------------------------------------------------------
  let pollTimer = null;
  async function poll() {
    clearTimeout(pollTimer);
    const live = $("live");
    try {
      const ch = await api(`${API}/changes` + query({ since: state.seq == null ? 0 : state.seq }));
      const seq = ch.seq != null ? ch.seq : null;
      const n = ch.incidents != null ? ch.incidents : null;
      const changed = state.seq !== null && (seq !== state.seq || (n !== null && n !== state.changeCount && n > 0));
      state.seq = seq;
      state.changeCount = n;
      live.className = "live ok";
      $("live-text").textContent = `Live · ${new Date().toISOString().slice(11, 19)}Z`;
      if (changed) {
        await loadRecords(true);
        if (state.selected && state.selected.kind === "incident") openRecord("incident", state.selected.id);
      }
    } catch (e) {
      live.className = "live err";
      $("live-text").textContent = `Live: ${e.status || "offline"}`;
    }
    pollTimer = setTimeout(poll, state.pollMs);
  }
  setInterval(() => { // expire the NEW highlights
    const now = Date.now();
    let expired = false;
    for (const [id, t] of state.newIds) if (t <= now) { state.newIds.delete(id); expired = true; }
    if (expired) { drawRecords(); drawList(); }
  }, 5000);

  // ---- controls -------------------------------------------------------------------------------
  function setRecords(kind, reload) {
    if (kind === "incident" && !state.canReadIncidents) kind = "violation";
    state.records = kind;
    document.querySelectorAll("#records-toggle button").forEach((b) => {
      b.classList.toggle("on", b.dataset.records === kind);
      if (b.dataset.records === "incident") b.disabled = !state.canReadIncidents;
    });
    const sel = $("f-kind");
    const list = kind === "incident" ? WEAPON_CLASSES : RULE_FAMILIES;
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
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const t = $("token-input").value.trim();
      if (!t) return;
      localStorage.setItem("truceline.token", t);
      window.location.reload();
    });
    $("logout-btn").addEventListener("click", () => {
      localStorage.removeItem("truceline.token");
      window.location.reload();
    });
    window.addEventListener("resize", () => drawHistogram());
  }

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
})();
