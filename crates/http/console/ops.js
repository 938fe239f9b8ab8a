// Operations (admin scope): the queue by status, the recommender's state and last build,
// request and job metrics of the last minutes as small charts (polled from /metrics), and API
// keys (create, revoke). Every figure comes from a public route.
import { ApiError, get, post, qs, session } from "./api.js";
import { lineChart } from "./charts.js";
import { action, field, fill, h, heading, select, status, toast, when, scroller } from "./ui.js";

const POLL_MS = 5000;
const WINDOW_MS = 10 * 60 * 1000;

/** Prometheus/OpenMetrics text → [{name, labels, value}]. */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

function sum(samples, name, filter = () => true) {
  return samples.filter((s) => s.name === name && filter(s.labels)).reduce((a, s) => a + s.value, 0);
}

function section(title, wide, ...children) {
  const id = `sec-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return h("section", { class: wide ? "panel wide" : "panel", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

function refused(e) {
  if (e instanceof ApiError && e.status === 403) return status("This needs an admin key (sign in with one).", "error");
  return status(e.message || String(e), "error");
}

export async function render(main) {
  const queue = h("div");
  const recommender = h("div");
  const charts = h("div", { class: "charts" });
  const keys = h("div");
  fill(
    main,
    heading("Operations"),
    h(
      "div",
      { class: "panels" },
      section("Queue", false, queue),
      section("Recommender", false, recommender),
      section("Metrics (last minutes)", true, charts),
      section("API keys", true, keys),
    ),
  );
  const timers = [];
  await Promise.all([loadQueue(queue), loadRecommender(recommender), loadKeys(keys)]);
  const history = [];
  const poll = async () => {
    try {
      const text = await get("/metrics", { raw: true });
      history.push({ t: Date.now(), samples: parseMetrics(text) });
      while (history.length && history[0].t < Date.now() - WINDOW_MS) history.shift();
      drawCharts(charts, history);
    } catch (e) {
      fill(charts, refused(e));
    }
  };
  await poll();
  timers.push(setInterval(poll, POLL_MS));
  timers.push(setInterval(() => loadQueue(queue).catch(() => {}), POLL_MS));
  return () => timers.forEach(clearInterval);
}

async function loadQueue(box) {
  try {
    const [stats, queue, running] = await Promise.all([
      get("/api/v1/generation-jobs/stats/overview"),
      get("/api/v1/generation-jobs/queue/stats"),
      get("/api/v1/generation-jobs/running/all?limit=100"),
    ]);
    const byWorker = new Map();
    for (const j of running.items) {
      const worker = j.worker_id ?? "unassigned";
      byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
    }
    fill(
      box,
      h("p", {}, `${queue.pending_jobs} pending, ${queue.running_jobs} running.`),
      h(
        "table",
        { class: "compact" },
        h("caption", {}, "Jobs by status"),
        h("tbody", {}, Object.entries(stats.status_breakdown).map(([s, n]) => h("tr", {}, h("th", { scope: "row" }, s), h("td", {}, String(n))))),
      ),
      h("p", { class: "muted" }, `Average processing time: ${stats.average_processing_time_seconds == null ? "—" : `${stats.average_processing_time_seconds.toFixed(2)} s`}.`),
      h("h3", {}, "Running now"),
      running.items.length
        ? h("ul", { class: "plain" }, running.items.map((j) => h("li", {}, `#${j.id} ${j.job_type} — ${Math.round(100 * j.progress)} %, attempt ${j.attempts}, on ${j.worker_id ?? "—"}, since ${when(j.started_at)}`)))
        : h("p", {}, "Nothing running."),
      byWorker.size
        ? h(
            "table",
            { class: "compact" },
            h("caption", {}, "Running jobs by worker"),
            h("tbody", {}, [...byWorker].map(([w, n]) => h("tr", {}, h("th", { scope: "row" }, w), h("td", {}, String(n))))),
          )
        : null,
    );
  } catch (e) {
    fill(box, refused(e));
  }
}

async function loadRecommender(box) {
  try {
    const s = await get("/api/v1/admin/recommender");
    const b = s.last_build;
    fill(
      box,
      h(
        "dl",
        { class: "details" },
        h("dt", {}, "Last build"), h("dd", {}, b ? `${when(b.built_at)} (${b.full ? "full" : "incremental"}, ${b.duration_ms} ms)` : "never"),
        b ? [h("dt", {}, "Covers"), h("dd", {}, `${b.items} items, ${b.users} users, ${b.interactions} interactions, ${b.neighbour_pairs} neighbour pairs`)] : null,
        h("dt", {}, "State"), h("dd", {}, s.stale ? "stale: interactions arrived since" : "up to date"),
        h("dt", {}, "Building"), h("dd", {}, s.running_on ? `on ${s.running_on} since ${when(s.running_since)}` : s.requested_at ? `requested ${when(s.requested_at)}` : "no"),
        s.last_error ? [h("dt", {}, "Last error"), h("dd", {}, s.last_error)] : null,
      ),
      action("Rebuild now", async () => {
        await post("/api/v1/admin/recommender/rebuild", { full: false });
        toast("Rebuild requested");
        await loadRecommender(box);
      }),
    );
  } catch (e) {
    fill(box, refused(e));
  }
}

function drawCharts(box, history) {
  const schema = document.getElementById("schema")?.value;
  const rate = (name, filter) =>
    history.slice(1).map((cur, i) => {
      const prev = history[i];
      return [cur.t, Math.max(0, sum(cur.samples, name, filter) - sum(prev.samples, name, filter)) / ((cur.t - prev.t) / 1000)];
    });
  const latency = history.slice(1).map((cur, i) => {
    const prev = history[i];
    const n = sum(cur.samples, "genonaut_http_request_duration_seconds_count") - sum(prev.samples, "genonaut_http_request_duration_seconds_count");
    const s = sum(cur.samples, "genonaut_http_request_duration_seconds_sum") - sum(prev.samples, "genonaut_http_request_duration_seconds_sum");
    return [cur.t, n > 0 ? (1000 * s) / n : 0];
  });
  const gauge = (status) => history.map((x) => [x.t, sum(x.samples, "genonaut_jobs", (l) => l.status === status && (!schema || l.schema === schema))]);
  fill(
    box,
    lineChart("Requests per second", [
      { label: "all", points: rate("genonaut_http_requests_total") },
      { label: "errors (5xx)", points: rate("genonaut_http_requests_total", (l) => (l.status || "").startsWith("5")) },
    ], { unit: "/s" }),
    lineChart("Mean request latency", [{ label: "mean", points: latency }], { unit: " ms" }),
    lineChart(`Jobs in ${schema || "the default schema"}`, [
      { label: "pending", points: gauge("pending") },
      { label: "running", points: gauge("running") },
    ]),
    lineChart("Job outcomes per second", [
      { label: "completed", points: rate("genonaut_job_outcomes_total", (l) => l.outcome === "completed") },
      { label: "failed", points: rate("genonaut_job_outcomes_total", (l) => l.outcome === "failed") },
    ], { unit: "/s" }),
    h("p", { class: "muted" }, `Sampled from /metrics every ${POLL_MS / 1000} s while this page is open (${history.length} samples).`),
  );
}

async function loadKeys(box) {
  let list;
  try {
    list = await get("/api/v1/admin/keys");
  } catch (e) {
    fill(box, e instanceof ApiError && e.status === 404 ? status(e.message) : refused(e));
    return;
  }
  const mine = (session.key.match(/^gnt_([0-9a-f]{8})_/) || [])[1];
  const body = h(
    "tbody",
    {},
    list.items.map((k) =>
      h(
        "tr",
        { "data-prefix": k.prefix },
        h("td", {}, h("code", {}, k.prefix)),
        h("td", {}, k.name),
        h("td", {}, k.scope),
        h("td", {}, k.schema || "all"),
        h("td", {}, k.revoked_at ? `revoked ${when(k.revoked_at)}` : k.expires_at ? `expires ${when(k.expires_at)}` : "active"),
        h(
          "td",
          {},
          k.revoked_at
            ? "—"
            : k.prefix === mine
              ? "(this session)"
              : action("Revoke", async () => {
                  if (!confirm(`Revoke key ${k.prefix} (${k.name})? Clients using it are refused at once.`)) return;
                  await post(`/api/v1/admin/keys/${k.prefix}/revoke`);
                  toast(`Key ${k.prefix} revoked`);
                  await loadKeys(box);
                }, { "aria-label": `Revoke key ${k.prefix} (${k.name})`, "data-action": "revoke" }),
        ),
      ),
    ),
  );
  const schemas = [...document.querySelectorAll("#schema option")].map((o) => [o.value, o.value]);
  const name = h("input", { type: "text", name: "name", required: true, maxlength: 100 });
  const secret = h("div", { class: "secret", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "new-key", "aria-label": "New API key" },
    field("Name", name),
    field("Scope", select("scope", [["read", "read"], ["write", "write"], ["admin", "admin"]], "read")),
    field("Schema", select("schema", [["", "all"], ...schemas], "")),
    field("Expires in (days)", h("input", { type: "number", name: "days", min: 1, max: 3650, inputmode: "numeric" }), "empty = never"),
    h("button", { type: "submit" }, "Create key"),
    secret,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const created = await post("/api/v1/admin/keys", {
        name: data.get("name"),
        scope: data.get("scope"),
        schema: data.get("schema") || undefined,
        expires_in_days: data.get("days") ? Number(data.get("days")) : undefined,
      });
      await loadKeys(box);
      const shown = box.querySelector(".secret");
      fill(
        shown,
        h("p", {}, `Key ${created.key.prefix} created. Copy it now: it is not shown again.`),
        h("input", { type: "text", readonly: true, value: created.secret, "aria-label": "The new key", class: "secret-value", onfocus: (e) => e.target.select() }),
      );
    } catch (e) {
      fill(secret, status(e.message, "error"));
    }
  });
  fill(
    box,
    scroller(
      "Key list",
      h(
        "table",
        { class: "keys" },
        h("caption", {}, `${list.total} keys, newest first`),
        h("thead", {}, h("tr", {}, ["Prefix", "Name", "Scope", "Schema", "State", "Action"].map((c) => h("th", { scope: "col" }, c)))),
        body,
      ),
    ),
    h("h3", {}, "New key"),
    form,
  );
}
