/* Live refresh: poll the store's change counter and reload the records when it moves; expire the
 * NEW highlights; show the transparency log's latest checkpoint (size and root) in the top bar. */

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

export {
  poll,
  showLedger,
};
