/* The map's own symbols: markers with a fill mode and launch -> impact arrows drawn on Leaflet's
 * canvas renderer, the 95 % ellipse as a ring, and the same symbols as SVG for the legend and list. */

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

// The same symbols as SVG, for the legend and the list.
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

export {
  Symbol_,
  Arrow,
  ellipseRing,
  symSvg,
};
