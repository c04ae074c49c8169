/* The map's data layers: the agreement's static layers (boundaries, areas, buffer, sectors, sites),
 * the line in force, and (mission roles) sensors with their health and the coverage. */

import { API, HEALTH_COLOUR, PARTY_AREA, WEAPON_LABEL, $, esc, fmtTime, isoZ, state, toast } from "./core.js";
import { api, query } from "./api.js";
import { Symbol_ } from "./symbols.js";
import { periodMinutes, periodStartMs } from "./period.js";
import { covRenderer, layers, map, sensorRenderer } from "./map.js";

map.on("overlayadd", (e) => {
  if (e.layer === layers.coverage) loadCoverage();
  if (e.layer === layers.sensors) loadSensors();
  if (e.layer === layers.settlements) drawSettlements();
});
map.on("zoomend moveend", () => drawSettlements());

// ---- settlements: the places records are described from, labelled by size as the map zooms in ----------
let settlements = null; // the layer's features once fetched (largest first), null before
let settlementsLoading = null;
/** The smallest settlement labelled at a zoom: cities on the overview, villages close in. */
function minPopulation(zoom) {
  return zoom >= 12 ? 1000 : zoom >= 11 ? 2500 : zoom >= 10 ? 10000 : zoom >= 9 ? 30000 : zoom >= 7 ? 100000 : 500000;
}
async function drawSettlements() {
  if (!map.hasLayer(layers.settlements)) return;
  if (settlements === null) {
    if (map.getZoom() < 7) { layers.settlements.clearLayers(); return; } // fetched when first needed
    settlementsLoading = settlementsLoading || loadLayer("settlements").then((fc) => { settlements = fc ? fc.features : []; });
    await settlementsLoading;
  }
  const min = minPopulation(map.getZoom()), view = map.getBounds().pad(0.2);
  layers.settlements.clearLayers();
  let n = 0;
  for (const f of settlements) {
    const p = f.properties || {};
    if (p.population < min) break; // largest first
    const [lon, lat] = f.geometry.coordinates;
    if (!view.contains([lat, lon])) continue;
    L.circleMarker([lat, lon], { pane: "places", radius: p.population >= 100000 ? 3.5 : 2.5, weight: 1, color: "#3d4656", fillColor: "#fff", fillOpacity: 1, interactive: false })
      .bindTooltip(esc(p.name), { permanent: true, direction: "right", offset: [4, 0], className: "place-label", pane: "places" })
      .addTo(layers.settlements);
    if (++n >= 400) break; // labels stay readable
  }
  $("map").dataset.settlements = String(n);
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
  state.geo = { areas, sectors }; // triage judges sectors and parties' areas on these
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
  const at = state.day ? isoZ(periodStartMs() + state.toMin * 60000 - 1000) : null;
  if (at === lineAt) return;
  lineAt = at;
  const [line, band] = await Promise.all([loadLayer("line", { at }), loadLayer("band", { at })]);
  layers.line.clearLayers();
  if (!line) return;
  if (band && band.features && band.features.length) {
    // Where sources disagree about the line: a translucent stroke as wide as the disagreement is large.
    L.geoJSON(band, {
      pane: "line", interactive: true,
      style: (f) => {
        const km = (f.properties || {}).disagreement_km || 0;
        return { color: "#d0782a", weight: Math.max(2, Math.min(16, 3 * km)), opacity: 0.35, lineCap: "butt" };
      },
      onEachFeature: (f, l) => {
        const p = f.properties || {};
        l.bindTooltip(`Sources disagree by ${num(p.disagreement_km, 1)} km here<br><span class="muted">${esc((p.sources || []).join(" · "))}</span>`, { className: "tip", sticky: true });
      },
    }).addTo(layers.line);
  }
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
  if (!state.day) return isoZ(Date.now());
  return isoZ(periodStartMs() + Math.min(state.toMin, periodMinutes() - 1) * 60000);
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

export {
  loadStaticLayers,
  loadLine,
  loadSensors,
  loadCoverage,
};
