/* The period the day selector names: by default the bulletin's reporting day, from the daily cut-off
 * (19:30 Kyiv local time, Europe/Kyiv, as truceline.adjudicate.cutoff.CutOff) of the previous evening to
 * the cut-off on the named day; with "UTC day" on, the UTC calendar day. Bounds, clock labels and day
 * arithmetic, all dates ISO (YYYY-MM-DD). */

import { state } from "./core.js";

const CUTOFF_MIN = 19 * 60 + 30; // 19:30 local time
const TZ_LABEL = "Kyiv";
const DAY_MS = 86400000;

let kyivFmt = null;
/** Europe/Kyiv (older ICU data knows it only as Europe/Kiev). */
function formatter() {
  if (kyivFmt) return kyivFmt;
  const opts = { hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" };
  for (const timeZone of ["Europe/Kyiv", "Europe/Kiev"]) {
    try {
      kyivFmt = new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone }, opts));
      return kyivFmt;
    } catch (e) { /* try the older name */ }
  }
  throw new Error("no Europe/Kyiv time zone in this browser");
}

/** Kyiv wall-clock fields of an instant: {day: "YYYY-MM-DD", min: minutes since local midnight, ms: as if UTC}. */
function kyivWall(ms) {
  const p = {};
  for (const part of formatter().formatToParts(new Date(ms))) p[part.type] = part.value;
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return { day: `${p.year}-${p.month}-${p.day}`, min: (+p.hour % 24) * 60 + +p.minute, ms: wall };
}

/** The instant of a Kyiv wall-clock time (day at ``min`` minutes after local midnight). */
function kyivInstant(day, min) {
  const wall = Date.parse(day + "T00:00:00Z") + min * 60000;
  let t = wall - (kyivWall(wall).ms - Math.floor(wall / 1000) * 1000);
  t = wall - (kyivWall(t).ms - Math.floor(t / 1000) * 1000); // again at the guess: a DST change between
  return t;
}

const addDays = (day, n) => new Date(Date.parse(day + "T00:00:00Z") + n * DAY_MS).toISOString().slice(0, 10);
const isUtc = () => state.period === "utc";

/** [start, end) in ms of a day's period (``mode``: "report" or "utc"; default the dashboard's). */
function periodBounds(day, mode) {
  if ((mode || state.period) === "utc") {
    const t0 = Date.parse(day + "T00:00:00Z");
    return [t0, t0 + DAY_MS];
  }
  return [kyivInstant(addDays(day, -1), CUTOFF_MIN), kyivInstant(day, CUTOFF_MIN)];
}

function periodStartMs() { return periodBounds(state.day)[0]; }
/** The period's length in minutes (1440, or 1380 / 1500 across a daylight-saving change). */
function periodMinutes() {
  const [a, b] = periodBounds(state.day);
  return Math.round((b - a) / 60000);
}

/** The day (period) an instant falls in. */
function periodDayOf(ms, mode) {
  if ((mode || state.period) === "utc") return new Date(ms).toISOString().slice(0, 10);
  const w = kyivWall(ms);
  return w.min >= CUTOFF_MIN ? addDays(w.day, 1) : w.day;
}

const pad = (n) => String(n).padStart(2, "0");
/** The clock time ``min`` minutes into the period: UTC "HH:MM" (24:00 at the end), or Kyiv local time. */
function clockAt(min) {
  if (isUtc()) return `${pad(Math.floor(min / 60))}:${pad(min % 60)}`;
  const w = kyivWall(periodStartMs() + min * 60000);
  return `${pad(Math.floor(w.min / 60))}:${pad(w.min % 60)}`;
}

/** "2026-09-02 reporting day: 09-01 19:30 – 09-02 19:30 Kyiv" (or "... UTC day: ... UTC"). */
function periodLabel() {
  const [a, b] = periodBounds(state.day);
  if (isUtc()) {
    const f = (ms) => new Date(ms).toISOString().slice(5, 16).replace("T", " ");
    return `${state.day} UTC day: ${f(a)} – ${f(b)} UTC`;
  }
  const f = (ms) => { const w = kyivWall(ms); return `${w.day.slice(5)} ${pad(Math.floor(w.min / 60))}:${pad(w.min % 60)}`; };
  return `${state.day} reporting day: ${f(a)} – ${f(b)} ${TZ_LABEL}`;
}

/** What the time block's heading says of its clock. */
const clockZone = () => (isUtc() ? "UTC" : `${TZ_LABEL} time`);

export {
  CUTOFF_MIN,
  addDays,
  periodBounds,
  periodStartMs,
  periodMinutes,
  periodDayOf,
  clockAt,
  periodLabel,
  clockZone,
};
