/* The HTTP API (docs/api.md): JSON requests with the session cookie (HttpOnly: set by POST /api/v1/session,
 * never readable here), query strings, sign-in and sign-out, and the rule families the dashboard lists
 * (from GET /api/v1/rules, the registry). */

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

/** A JSON request with the session cookie (none when ``opts.anonymous``); throws ApiError on an error status.
 * Every request carries X-Requested-With, which the API requires of a cookie-authenticated write (CSRF). */
async function api(path, opts) {
  opts = opts || {};
  const headers = Object.assign({ Accept: "application/json", "X-Requested-With": "truceline" }, opts.headers || {});
  let body = opts.body;
  if (body !== undefined && typeof body !== "string") {
    body = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const credentials = opts.anonymous ? "omit" : "same-origin";
  const res = await fetch(path, { method: opts.method || "GET", headers, body, cache: "no-store", credentials });
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

// ---- session -------------------------------------------------------------------------------
/** Exchange a token for the session cookie (the token is sent once, in the body, and not kept). */
async function signIn(token) {
  return api(`${API}/session`, { method: "POST", body: { token } });
}

/** End the session (the cookie is cleared by the server). */
async function signOut() {
  return api(`${API}/session`, { method: "DELETE" });
}

// ---- rule families ------------------------------------------------------------------------
/** The rule families (id, label, colour, ...) in the registry's order, into ``state.families``.
 * Public for every role, so asked without the cookie (a dead session must not hide the list). */
async function loadRules() {
  try {
    const rules = await api(`${API}/rules`, { anonymous: true });
    state.families = (rules || []).map((r) => ({ id: r.id, label: r.label, short: r.short_label, colour: r.colour }));
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
  signIn,
  signOut,
};
