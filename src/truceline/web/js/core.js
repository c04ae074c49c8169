/* Constants, the page's state, and the helpers every module uses: DOM, escaping, times, the
 * accessors shared by incidents and violations, the toast. */

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
  signedIn: false, // a session cookie (HttpOnly: the page never holds the token)
  who: null, // {name, role} when the API tells
  canReadIncidents: false,
  mission: false, // admin, analyst, observer: sensors, their health and coverage
  records: "incident",
  day: null,
  period: params.get("period") === "utc" ? "utc" : "report", // the bulletin's reporting day (Kyiv cut-off) or the UTC day
  sort: params.get("sort") === "severity" ? "severity" : "newest",
  fromMin: 0,
  toMin: 1440, // minutes into the day's period (1380 or 1500 across a daylight-saving change)
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
  forcePoll: params.get("push") === "0", // ?push=0: poll the change counter instead of listening to the stream
  lagging: false, // processing behind (GET /api/v1/health), mission roles
  lagText: "",
  loading: 0,
  loadSerial: 0,
  draft: null, // {id, text}: the review reason being typed
  agreement: null,
  geo: { areas: null, sectors: null }, // the agreement's areas and sectors (GeoJSON), for triage
  families: [], // the rule families [{id, label, colour}], from GET /api/v1/rules (the registry)
};

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

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
  const n = p.rounds && p.rounds.high > 1 ? ` · ${p.rounds.best} rounds` : "";
  if (state.records === "violation") return (p.rule_id || "violation") + n;
  return (WEAPON_LABEL[p.weapon_class] || p.weapon_class || "incident") + n;
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

export {
  API,
  LIMIT,
  LIST_MAX,
  WIDE_ELLIPSE_M,
  STATUSES,
  STATUS_COLOUR,
  HEALTH_COLOUR,
  PARTY_AREA,
  WEAPON_CLASSES,
  WEAPON_LABEL,
  LEVEL_LABEL,
  ACTIONS,
  params,
  state,
  $,
  esc,
  dayStartMs,
  dayOf,
  isoZ,
  hhmm,
  fmtTime,
  num,
  props,
  recId,
  recTimeMs,
  recStatus,
  recAttr,
  recWeapon,
  recTitle,
  pointOf,
  partyLabel,
  fillModeOf,
  toast,
};
