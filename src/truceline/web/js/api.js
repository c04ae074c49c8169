/* The HTTP API (docs/api.md): JSON requests with the stored token, query strings, and the rule
 * families the dashboard lists (from GET /api/v1/rules, the registry). */

import { API, state } from "./core.js";

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

/** A JSON request with the stored token (none when ``opts.anonymous``); throws ApiError on an error status. */
async function api(path, opts) {
  opts = opts || {};
  const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
  if (state.token && !opts.anonymous) headers.Authorization = "Bearer " + state.token;
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

// ---- rule families ------------------------------------------------------------------------
/** The rule families (id, label, colour, ...) in the registry's order, into ``state.families``.
 * Public for every role, so asked without the token (a stale token must not hide the list). */
async function loadRules() {
  try {
    const rules = await api(`${API}/rules`, { anonymous: true });
    state.families = (rules || []).map((r) => ({ id: r.id, label: r.label, colour: r.colour }));
  } catch (e) {
    state.families = [];
    throw e;
  }
}

export {
  ApiError,
  api,
  query,
  loadRules,
};
