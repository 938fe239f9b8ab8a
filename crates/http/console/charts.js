// Inline SVG charts: a small line chart of recent samples, and rates with confidence intervals.
// Text alternatives are part of each chart (role="img", <title>, a caption).
import { h } from "./ui.js";

const COLORS = ["#1f5fbf", "#b3261e", "#2e7d32", "#6a3fb5", "#8a5a00"];

/**
 * series: [{label, points: [[t, value], …]}]; t in ms. Returns a <figure>.
 */
export function lineChart(title, series, { unit = "", width = 320, height = 120 } = {}) {
  const pad = { l: 40, r: 8, t: 8, b: 18 };
  const all = series.flatMap((s) => s.points);
  const t0 = Math.min(...all.map((p) => p[0]), Date.now() - 60_000);
  const t1 = Math.max(...all.map((p) => p[0]), t0 + 1);
  const top = Math.max(1e-9, ...all.map((p) => p[1])) * 1.1;
  const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (v) => height - pad.b - (v / top) * (height - pad.t - pad.b);
  const last = series.map((s) => `${s.label} ${format(s.points.at(-1)?.[1])}${unit}`).join(", ");
  const svg = h(
    "svg:svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}: ${last || "no data yet"}`, class: "chart" },
    h("svg:title", {}, title),
    h("svg:line", { x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b, stroke: "#555" }),
    h("svg:line", { x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b, stroke: "#555" }),
    h("svg:text", { x: pad.l - 4, y: pad.t + 8, "text-anchor": "end", "font-size": 10, fill: "#222" }, format(top)),
    h("svg:text", { x: pad.l - 4, y: height - pad.b, "text-anchor": "end", "font-size": 10, fill: "#222" }, "0"),
    h("svg:text", { x: width - pad.r, y: height - 4, "text-anchor": "end", "font-size": 10, fill: "#222" }, "now"),
    h("svg:text", { x: pad.l, y: height - 4, "font-size": 10, fill: "#222" }, `${Math.round((t1 - t0) / 1000)} s ago`),
    series.map((s, i) =>
      s.points.length
        ? h("svg:polyline", {
            fill: "none",
            stroke: COLORS[i % COLORS.length],
            "stroke-width": 2,
            points: s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" "),
          })
        : null,
    ),
  );
  return h(
    "figure",
    { class: "chart-box" },
    svg,
    h(
      "figcaption",
      {},
      h("strong", {}, title),
      " ",
      series.map((s, i) => h("span", { class: `legend c${i % COLORS.length}` }, `${s.label}: ${format(s.points.at(-1)?.[1])}${unit}`)),
    ),
  );
}

/** rows: [{label, rate, low, high}] in 0…1. Horizontal bars with interval whiskers. */
export function intervalChart(title, rows) {
  const width = 360;
  const row = 28;
  const left = 110;
  const height = rows.length * row + 24;
  const x = (v) => left + v * (width - left - 24);
  const summary = rows.map((r) => `${r.label} ${(100 * r.rate).toFixed(1)} % (${(100 * r.low).toFixed(1)}–${(100 * r.high).toFixed(1)} %)`).join("; ");
  return h(
    "figure",
    { class: "chart-box" },
    h(
      "svg:svg",
      { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}: ${summary || "no data"}`, class: "chart" },
      h("svg:title", {}, title),
      [0, 0.25, 0.5, 0.75, 1].map((v) => [
        h("svg:line", { x1: x(v), y1: 4, x2: x(v), y2: height - 18, stroke: "#ccc" }),
        h("svg:text", { x: x(v), y: height - 4, "text-anchor": "middle", "font-size": 10, fill: "#222" }, `${v * 100}%`),
      ]),
      rows.map((r, i) => {
        const cy = 4 + i * row + row / 2;
        return [
          h("svg:text", { x: left - 6, y: cy + 4, "text-anchor": "end", "font-size": 12, fill: "#222" }, r.label),
          h("svg:rect", { x: left, y: cy - 8, width: Math.max(1, x(r.rate) - left), height: 16, fill: COLORS[i % COLORS.length], opacity: 0.75 }),
          h("svg:line", { x1: x(r.low), y1: cy, x2: x(r.high), y2: cy, stroke: "#111", "stroke-width": 2 }),
          h("svg:line", { x1: x(r.low), y1: cy - 6, x2: x(r.low), y2: cy + 6, stroke: "#111", "stroke-width": 2 }),
          h("svg:line", { x1: x(r.high), y1: cy - 6, x2: x(r.high), y2: cy + 6, stroke: "#111", "stroke-width": 2 }),
        ];
      }),
    ),
    h("figcaption", {}, h("strong", {}, title), ` — bars: rate; whiskers: 95 % interval. ${summary}`),
  );
}

function format(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return "—";
  if (Math.abs(v) >= 100) return Math.round(v).toString();
  if (Math.abs(v) >= 1) return v.toFixed(1);
  return v.toFixed(3);
}
