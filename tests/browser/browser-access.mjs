// Browser access with API keys on, in headless Chromium with the outside network blocked.
// The key stays in this script (as it would in a backend); the page gets only what a browser
// may hold: a single-use live-status ticket and signed media URLs.
//
// 1. Creates a user and an image job with the key, and a ticket for the job.
// 2. A page served by this script from its own origin (an app next to the API, as a real front
//    end would be; the page is cross-origin to the API) opens /ws/generation/{id}?ticket=… and follows the job to
//    `completed` (recording every message type).
// 3. The generated item's signed `media_url` goes into an <img>: it must load
//    (naturalWidth = the requested width); the same image by its plain /media/ path must not.
// 4. The ticket, used once, no longer opens the socket.
//
//   GENONAUT_KEY=gnt_… node browser-access.mjs http://127.0.0.1:PORT [screenshot-dir]
//
// Run by scripts/browser-check.sh. CHROMIUM names the browser (default /usr/bin/chromium).
import { createServer } from "node:http";
import { chromium } from "playwright-core";

const base = process.argv[2];
const shots = process.argv[3];
const key = process.env.GENONAUT_KEY;
const local = new Set(["127.0.0.1", "localhost", "[::1]"]);
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

async function api(method, path, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

// The test page, from a loopback server of its own (Chromium lets a loopback page reach loopback
// services; a page made up by request interception would count as public and be blocked).
const app = createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><meta charset="utf-8"><title>Genonaut browser check</title>
<h1>Job <span id="job"></span>: <span id="status">connecting</span></h1><div id="gallery"></div>`);
});
await new Promise((resolve) => app.listen(0, "127.0.0.1", resolve));
const page_url = `http://127.0.0.1:${app.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // Root in CI has no user namespace for Chromium's sandbox.
  args: ["--no-sandbox", "--disable-background-networking"],
});
try {
  const context = await browser.newContext();
  const outside = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (!local.has(url.hostname)) {
      outside.push(url.href);
      return route.abort("blockedbyclient");
    }
    return route.continue();
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(page_url);

  // The job starts now, so the page sees it run (the key stays here, as in a backend).
  const user = await api("POST", "/api/v1/users", { username: `browser${Date.now()}`, email: `b${Date.now()}@example.com` });
  const job = await api("POST", "/api/v1/generation-jobs", {
    user_id: user.id,
    job_type: "image",
    prompt: "a lighthouse at sunset",
    parameters: { width: 96, height: 64, step_delay_ms: 150 },
  });
  const { ticket, expires_at } = await api("POST", "/api/v1/ws-tickets", { job_id: job.id });
  check(ticket.startsWith("gwt_") && !!expires_at, "a ticket was issued for the job");
  check((await fetch(`${base}/ws/generation/${job.id}`)).status === 401, "the socket without key or ticket is 401");

  const follow = (id, t) =>
    page.evaluate(
      ([base, id, t]) =>
        new Promise((resolve) => {
          const seen = [];
          document.getElementById("job").textContent = id;
          const ws = new WebSocket(`${base.replace("http", "ws")}/ws/generation/${id}?ticket=${t}`);
          ws.onmessage = (m) => {
            const msg = JSON.parse(m.data);
            seen.push(msg);
            document.getElementById("status").textContent = msg.type === "snapshot" ? msg.job.status : msg.type;
          };
          ws.onclose = (e) => resolve({ code: e.code, seen });
          ws.onerror = () => {};
          setTimeout(() => resolve({ code: "timeout", seen }), 60_000);
        }),
      [base, id, t],
    );

  const { code, seen } = await follow(job.id, ticket);
  const types = seen.map((m) => m.type);
  console.log(`socket: close ${code}, messages ${types.join(",")}`);
  const last = seen[seen.length - 1] || {};
  check(code === 1000 && last.type === "completed", "the page followed the job over the socket to completed");
  check(types.includes("progress"), "the page saw progress events");

  const content = await api("GET", `/api/v1/content/${last.result_content_id}`);
  check(typeof content.media_url === "string" && content.media_url.includes("sig="), "the item has a signed media_url");
  const show = (path) =>
    page.evaluate(
      (src) =>
        new Promise((resolve) => {
          const img = new Image();
          img.onload = () => resolve(img.naturalWidth);
          img.onerror = () => resolve(0);
          img.src = src;
          img.alt = src;
          document.getElementById("gallery").appendChild(img);
        }),
      `${base}${path}`,
    );
  const width = await show(content.media_url);
  check(width === 96, `the generated image shows via its signed URL (naturalWidth ${width})`);
  const plain = await show(content.content_data);
  check(plain === 0, "the plain /media/ path does not show without a key");
  const tampered = await show(content.media_url.replace(/sig=(.)/, (_, c) => `sig=${c === "0" ? "1" : "0"}`));
  check(tampered === 0, "an altered signature does not show");

  const again = await follow(job.id, ticket);
  check(again.seen.length === 0 && again.code !== 1000, `a used ticket no longer opens the socket (close ${again.code})`);

  if (shots) await page.screenshot({ path: `${shots}/browser-access.png` });
  check(outside.length === 0, `no request left this machine (${outside.length})`);
  check(errors.length === 0, `no page errors ${errors.join("; ")}`);
  await context.close();
} finally {
  await browser.close();
  app.close();
}
if (failures.length) {
  console.error(`browser access: ${failures.length} failure(s)`);
  process.exit(1);
}
console.log("browser access with keys on works");
