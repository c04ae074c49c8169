/* The Leaflet map: panes, canvas renderers, the layer groups and their control, the legend, the
 * scale and the "whole line" button. */

import { HEALTH_COLOUR, PARTY_AREA, STATUSES, STATUS_COLOUR, state } from "./core.js";
import { symSvg } from "./symbols.js";

// ---- map ----------------------------------------------------------------------------------
const map = L.map("map", { zoomControl: true, preferCanvas: false, attributionControl: true, minZoom: 4, maxZoom: 16, zoomSnap: 0.5 });
map.attributionControl.setPrefix(false);
map.attributionControl.addAttribution("Boundaries © Мінрегіон CC BY-SA · line: illustrative (DeepStateMap-derived)");
map.setView([48.3, 35.5], 6);
const panes = [["base", 250], ["areas", 260], ["zones", 330], ["coverage", 340], ["places", 350], ["line", 360], ["sites", 370], ["sensors", 380], ["ellipses", 410], ["incidents", 420]];
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
  settlements: L.layerGroup(),
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
  "Settlements": layers.settlements,
  "Line of contact": layers.line,
  "Sensors (health)": layers.sensors,
  "Coverage (detection probability)": layers.coverage,
  "95 % ellipses": layers.ellipses,
  "Launch → impact": layers.arrows,
  "Incidents / violations": layers.records,
};
for (const k of ["boundaries", "areas", "buffer", "disengagement", "sectors", "sites", "settlements", "line", "ellipses", "arrows", "records"]) layers[k].addTo(map);
const layerControl = L.control.layers(null, overlayNames, { collapsed: true, position: "topright" }).addTo(map);
layerControl.getContainer().setAttribute("data-testid", "layer-control");

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
    const show = (open) => {
      body.hidden = !open;
      div.querySelector(".caret").textContent = open ? "▾" : "▸";
    };
    // On a short screen (a 1280x720 laptop) the open legend hides a third of the map: start it folded.
    show(window.innerHeight >= 800);
    div.querySelector(".legend-toggle").addEventListener("click", () => show(body.hidden));
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

export {
  map,
  layers,
  layerControl,
  incRenderer,
  sensorRenderer,
  ellipseRenderer,
  covRenderer,
};
