/* Live refresh: the server pushes a `changes` event (Server-Sent Events, GET /api/v1/stream) when what the
 * API shows changes, and the records are reloaded; without a stream (an old browser, a proxy that cuts it)
 * the change counter is polled every ?poll= ms instead. Also: the processing lag (GET /api/v1/health,
 * mission roles), the NEW highlights' expiry, and the transparency log's latest checkpoint in the top bar. */

import { API, $, state } from "./core.js";
import { api, query } from "./api.js";
import { openRecord } from "./panel.js";
import { drawList, drawRecords, loadRecords } from "./records.js";

// ---- the transparency log's checkpoint ------------------------------------------------------------
let ledgerAt = 0;
async function showLedger() {
  const label = $("ledger-label");
  try {
    const lg = await api(`${API}/ledger`);
    const root = (lg.checkpoint || "").split("\n")[2] || "";
    label.textContent = `Log ${lg.size.toLocaleString("en-GB")} · ${root.slice(0, 8)}…`;
    label.title = `Transparency log ${lg.origin}: signed checkpoint of ${lg.size} entries, root ${root}. ` +
      "Every bulletin and every decision on a finding is in it; parties verify offline (truceline verify).";
    label.dataset.size = String(lg.size);
    label.hidden = false;
  } catch (e) {
    label.hidden = true; // no log kept by this store (404), or not reachable now
  }
  ledgerAt = Date.now();
}

// ---- live refresh ----------------------------------------------------------------------------
let pollTimer = null;
let source = null; // the EventSource while the server pushes
let healthAt = 0;

/** Ask the change counter; reload the records when it moved. Called on every pushed event, and on a timer
 * when nothing is pushed (every ?poll= ms) or as a safety net while pushing (every minute). */
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
    if (Date.now() - ledgerAt > 60000) showLedger();
    if (state.mission && Date.now() - healthAt > 30000) showLag();
    live.className = "live ok" + (state.lagging ? " lagging" : "");
    $("live-text").textContent = `${source ? "Live" : "Polling"} · ${new Date().toISOString().slice(11, 19)}Z` +
      (state.lagText ? ` · ${state.lagText}` : "");
    if (changed) {
      await loadRecords(true);
      if (state.selected && state.selected.kind === "incident") openRecord("incident", state.selected.id);
    }
  } catch (e) {
    live.className = "live err";
    $("live-text").textContent = `Live: ${e.status || "offline"}`;
  }
  pollTimer = setTimeout(poll, source ? 60000 : state.pollMs);
}

/** The processing lag (mission roles): shown beside the live indicator when processing is behind. */
async function showLag() {
  healthAt = Date.now();
  try {
    const h = await api(`${API}/health`);
    const p = h.processing || {};
    const lag = p.lag_s;
    state.lagging = h.status !== "ok" || (lag != null && lag > 1800);
    state.lagText = lag == null ? "nothing processed" : lag > 1800 ? `processing ${fmtLag(lag)} behind` : "";
    $("live").title = lag == null ? "Nothing processed yet" :
      `Processed up to ${p.processed_until} (${fmtLag(lag)} ago)` + (p.live ? `; live processing: ${p.live.runs} run(s)` +
        (p.live.error ? `, last error: ${p.live.error}` : "") : "; no live processing (truceline serve --live)");
  } catch (e) {
    state.lagText = "";
  }
}

function fmtLag(s) {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** Start listening to the server's pushes (falling back to polling when the stream is unavailable). */
function listen() {
  if (window.EventSource && !state.forcePoll) {
    source = new EventSource(`${API}/stream`); // same origin: the session cookie goes with it
    source.addEventListener("changes", () => poll());
    source.onerror = () => {
      if (source && source.readyState === EventSource.CLOSED) { // refused: poll from now on
        source = null;
        poll();
      } // else the browser reconnects by itself (the server ends each stream after a few minutes)
    };
  }
  poll();
}

setInterval(() => { // expire the NEW highlights
  const now = Date.now();
  let expired = false;
  for (const [id, t] of state.newIds) if (t <= now) { state.newIds.delete(id); expired = true; }
  if (expired) { drawRecords(); drawList(); }
}, 5000);

export {
  listen,
  poll,
  showLedger,
};
