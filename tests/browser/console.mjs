// The console in headless Chromium with the outside network blocked, against the real server
// (keys on, offline generators). Seeds a little data through the API with the admin key (as a
// backend would), then drives the pages as a person would:
//
//  1. `/` redirects the browser to /console, which asks for a key; sign in.
//  2. Gallery: thumbnails load through signed URLs; filter by type; search by title; semantic
//     search.
//  3. Item: open one from the gallery, like it: its like count goes up.
//  4. Generate: an image job, followed live over the WebSocket (ticket) to completed; the
//     result shows.
//  5. For you: recommendations with explanations; dismiss one, refresh: it is gone.
//  6. Experiments: create one, land on its results page (table and interval chart).
//  7. Operations: queue, recommender, metrics charts; revoke a key: the key is refused.
//  8. The gallery again at 375×812: no horizontal scrolling.
//
// On every page: axe-core (from node_modules, pinned) reports no serious or critical
// violation. Anywhere: no CSP violation, no page error, no request to another host, the key in
// no URL. Screenshots in the given folder.
//
//   GENONAUT_KEY=gnt_… GENONAUT_VICTIM_KEY=gnt_… node console.mjs http://127.0.0.1:PORT [shots]
//
// Run by scripts/console-check.sh. CHROMIUM names the browser (default /usr/bin/chromium).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const axeVersion = JSON.parse(readFileSync(require.resolve("axe-core/package.json"), "utf8")).version;

const base = process.argv[2];
const shots = process.argv[3];
const key = process.env.GENONAUT_KEY;
const victim = process.env.GENONAUT_VICTIM_KEY;
const local = new Set(["127.0.0.1", "localhost", "[::1]"]);
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

async function api(method, path, body, as = key) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${as}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw Object.assign(new Error(`${method} ${path}: ${r.status} ${text}`), { status: r.status });
  return text ? JSON.parse(text) : null;
}

// --- Data, through the API -------------------------------------------------------------------
const stamp = Date.now() % 1_000_000;
const alice = await api("POST", "/api/v1/users", { username: `alice${stamp}`, email: `alice${stamp}@example.com`, preferences: { favorite_tags: ["sea"] } });
const bob = await api("POST", "/api/v1/users", { username: `bob${stamp}`, email: `bob${stamp}@example.com` });
const texts = [
  ["Lighthouse at dusk", ["sea", "light"], "The lamp turns over a dark sea."],
  ["Harbour morning", ["sea", "boats"], "Boats wake in the harbour."],
  ["Mountain pass", ["mountain"], "Snow on the pass, wind in the pines."],
  ["Desert night", ["desert", "stars"], "Cold sand under a sky full of stars."],
  ["Forest walk", ["forest"], "Moss, ferns and a quiet path."],
  ["Storm over the bay", ["sea", "storm"], "Waves break against the harbour wall."],
];
const items = [];
for (const [title, tags, text] of texts) {
  items.push(await api("POST", "/api/v1/content", { title, content_type: "text", content_data: text, creator_id: bob.id, tags, is_public: true }));
}
// More than one page of the gallery (24 a page): "Load more" has something to load.
const notes = [];
for (let i = 1; i <= 20; i++) {
  notes.push(await api("POST", "/api/v1/content", { title: `Note ${i}`, content_type: "text", content_data: `Short note number ${i}.`, creator_id: alice.id, tags: ["note"], is_public: true }));
}
for (const prompt of ["a lighthouse on a cliff", "a red sailing boat"]) {
  const job = await api("POST", "/api/v1/generation-jobs", { user_id: bob.id, job_type: "image", prompt, parameters: { width: 96, height: 96 } });
  for (let i = 0; i < 200; i++) {
    const j = await api("GET", `/api/v1/generation-jobs/${job.id}`);
    if (j.status === "completed") {
      const item = await api("GET", `/api/v1/content/${j.result_content_id}`);
      items.push(item);
      break;
    }
    if (["failed", "cancelled"].includes(j.status)) throw new Error(`seed job ${j.id} ${j.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
// Alice liked the lighthouse; Bob liked the sea pieces; so Alice has neighbours to be shown.
await api("POST", "/api/v1/interactions", { user_id: alice.id, content_item_id: items[0].id, interaction_type: "like" });
for (const i of [0, 1, 5]) await api("POST", "/api/v1/interactions", { user_id: bob.id, content_item_id: items[i].id, interaction_type: "like" });
console.log(`seeded: users ${alice.id}, ${bob.id}; ${items.length + notes.length} items`);

// --- The browser -----------------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // Root in CI has no user namespace for Chromium's sandbox.
  args: ["--no-sandbox", "--disable-background-networking"],
});
const outside = [];
const problems = [];
let current = null;
const urls = [];

async function newPage(viewport) {
  const context = await browser.newContext({ viewport, reducedMotion: "reduce" });
  await context.route("**/*", (route) => {
    const u = new URL(route.request().url());
    if (!local.has(u.hostname)) {
      outside.push(u.href);
      return route.abort("blockedbyclient");
    }
    return route.continue();
  });
  const page = await context.newPage();
  current = page;
  page.setDefaultTimeout(30_000);
  page.on("request", (r) => urls.push(r.url()));
  page.on("websocket", (ws) => urls.push(ws.url()));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on("dialog", (d) => d.accept());
  return { context, page };
}

async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ["violations"] }).then((r) =>
      r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, target: v.nodes[0]?.target?.join(" ") })),
    ),
  );
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of result) console.log(`     axe ${name}: ${v.impact} ${v.id} ×${v.nodes} (${v.target})`);
  check(bad.length === 0, `${name}: axe-core ${axeVersion} finds no serious or critical violation${bad.length ? `: ${bad.map((v) => v.id).join(", ")}` : ""}`);
}

async function shot(page, name) {
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    document.getElementById("toast").textContent = "";
  });
  if (shots) await page.screenshot({ path: `${shots}/${name}.png` });
}

async function signIn(page) {
  await page.goto(`${base}/`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".grid .card").first().waitFor();
}

/** Follows a navigation link and waits until the page has rendered. */
async function go(page, link, title) {
  const target = page.getByRole("link", { name: link, exact: true });
  const href = await target.getAttribute("href");
  await target.click();
  await page.waitForFunction((h) => document.getElementById("main").dataset.rendered === h, href);
  await page.getByRole("heading", { level: 1, name: title }).waitFor();
}

const imagesLoaded = (page) =>
  page.evaluate(() => [...document.querySelectorAll(".grid img")].map((img) => img.complete && img.naturalWidth > 0));

try {
  const { context, page } = await newPage({ width: 1100, height: 800 });

  // 1. Sign-in.
  await page.goto(`${base}/`);
  check(new URL(page.url()).pathname === "/console", `/ took the browser to the console (${page.url()})`);
  await page.getByLabel("API key").waitFor();
  await axe(page, "sign-in");
  await shot(page, "sign-in");
  await page.getByLabel("API key").fill("gnt_00000000_0000000000000000000000000000000000000000");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Not accepted").waitFor();
  check(true, "a wrong key is refused on the sign-in form");
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();

  // 2. Gallery.
  await page.locator(".grid .card").first().waitFor();
  const all = items.length + notes.length;
  const firstPage = await page.locator(".grid .card").count();
  check(firstPage === 24, `the gallery's first page shows 24 of ${all} items (${firstPage})`);
  await page.getByRole("button", { name: "Load more" }).click();
  await page.waitForFunction((n) => document.querySelectorAll(".grid .card").length === n, all);
  check(await page.getByRole("button", { name: "Load more" }).isHidden(), `"Load more" brings the rest (${all}) and then hides`);
  await page.waitForFunction(() => [...document.querySelectorAll(".grid img")].every((i) => i.complete));
  const loaded = await imagesLoaded(page);
  check(loaded.length === 2 && loaded.every(Boolean), `image thumbnails load through signed URLs (${loaded})`);
  const srcs = await page.locator(".grid img").evaluateAll((imgs) => imgs.map((i) => i.getAttribute("src")));
  check(srcs.every((s) => s.includes("sig=")), "thumbnails use signed media URLs");
  await axe(page, "gallery");
  await shot(page, "gallery");

  await page.getByLabel("Type").selectOption("image");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForFunction(() => location.hash.includes("type=image"));
  await page.waitForFunction(() => document.querySelectorAll(".grid .card").length === 2 && !document.querySelector(".textcard"));
  check(true, "filtering by type shows only images");

  await page.getByLabel("Type").selectOption("");
  await page.getByLabel("Search").fill("harbour");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForFunction(() => location.hash.includes("q=harbour") && document.getElementById("main").dataset.rendered === location.hash);
  await page.waitForFunction(() => document.querySelector(".status")?.textContent.startsWith("Showing"));
  const found = await page.locator(".grid .card-title").allTextContents();
  check(found.length === 1 && found[0] === "Harbour morning", `title search finds "Harbour morning" (${found})`);

  await page.getByLabel("Search").fill("waves crashing on the coast");
  await page.getByLabel("Match").selectOption("semantic");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForFunction(() => location.hash.includes("mode=semantic") && document.getElementById("main").dataset.rendered === location.hash);
  await page.waitForFunction(() => /Showing|No content|embedding|422|semantic/i.test(document.querySelector(".status")?.textContent || ""));
  const semantic = await page.locator(".status").first().textContent();
  const first = await page.locator(".grid .card-title").first().textContent().catch(() => "");
  check(/nearest in meaning/.test(semantic) && first.length > 0, `semantic search ranks by meaning (${semantic.trim()} first: ${first})`);

  await page.getByLabel("Tag").fill("sea");
  await page.getByLabel("Search").fill("");
  await page.getByLabel("Match").selectOption("text");
  await page.getByRole("button", { name: "Apply" }).click();
  // The page for this hash has rendered (not the previous search's, still on screen).
  await page.waitForFunction(() => location.hash.includes("tag=sea") && document.getElementById("main").dataset.rendered === location.hash && document.querySelector(".status")?.textContent.startsWith("Showing"));
  check((await page.locator(".grid .card").count()) === 3, "filtering by tag shows the three sea pieces");

  // The data set picker: the other schema is empty, every call goes there, and back.
  const schemaNames = await page.locator("#schema option").evaluateAll((o) => o.map((x) => x.value));
  const other = schemaNames.find((n) => n !== schemaNames[0] && n.endsWith("_b"));
  check(schemaNames.length === 2 && !!other, `the data set picker lists the served schemas (${schemaNames.join(", ")})`);
  const home = await page.locator("#schema").inputValue();
  await page.locator("#schema").selectOption(other);
  await page.waitForFunction(() => /No content matches/.test(document.querySelector("main .status")?.textContent || ""));
  check((await page.locator(".grid .card").count()) === 0, `in schema ${other} the gallery is empty (X-Genonaut-Schema)`);
  await page.locator("#schema").selectOption(home);
  await page.waitForFunction(() => /Showing/.test(document.querySelector("main .status")?.textContent || ""));

  // 3. Item: open and like.
  await page.getByRole("link", { name: /Lighthouse at dusk/ }).click();
  await page.getByRole("heading", { level: 1, name: "Lighthouse at dusk" }).waitFor();
  await page.getByLabel("Acting as user").selectOption(String(alice.id));
  const likes = async () => Number((await page.locator('dd[data-type="like"]').textContent().catch(() => "0")) || 0);
  const before = await likes();
  await page.getByRole("button", { name: "♥ Like" }).click();
  await page.waitForFunction((n) => Number(document.querySelector('dd[data-type="like"]')?.textContent || 0) === n + 1, before);
  const stats = await api("GET", `/api/v1/interactions/content/${items[0].id}/stats`);
  check(stats.stats.like.count === before + 1, `liking on the item page recorded a like (${before} → ${stats.stats.like.count})`);
  await page.locator("#similar-title + ul li").first().waitFor();
  await axe(page, "item");
  await shot(page, "item");

  // 4. Generate, live.
  await go(page, "Generate", "Generate");
  await page.evaluate(() => {
    window.__seen = [];
    const live = document.querySelector(".live");
    new MutationObserver(() => window.__seen.push(live.dataset.status)).observe(live, { attributes: true, attributeFilter: ["data-status"] });
  });
  await page.getByLabel("Prompt").fill("a lighthouse at sunset");
  await page.getByLabel("Width").fill("96");
  await page.getByLabel("Height").fill("64");
  await page.getByLabel("More parameters (JSON object)").fill('{"step_delay_ms": 120}');
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForFunction(() => document.querySelector(".live")?.dataset.status === "completed" && document.querySelector(".result img")?.complete, null, { timeout: 60_000 });
  const seen = await page.evaluate(() => window.__seen);
  check(seen.includes("progress"), `the page showed the job's progress live (${[...new Set(seen)].join(" → ")})`);
  const width = await page.locator(".result img").evaluate((img) => img.naturalWidth);
  check(width === 96, `the finished image shows (naturalWidth ${width})`);
  await page.locator("table.jobs tbody tr").first().waitFor();
  check((await page.locator("table.jobs tbody tr .job-status.completed").count()) >= 1, "the job is in the history as completed");
  await axe(page, "generate");
  await shot(page, "generate");

  // Cancel a slow job from the history, then retry it.
  await page.getByLabel("More parameters (JSON object)").fill('{"step_delay_ms": 3000}');
  const submitted = page.waitForResponse((r) => r.url().endsWith("/api/v1/generation-jobs") && r.request().method() === "POST");
  await page.getByRole("button", { name: "Generate" }).click();
  const slow = await (await submitted).json();
  await page.getByRole("button", { name: `Cancel job ${slow.id}` }).click();
  await page.waitForFunction((id) => document.querySelector(`tr[data-job="${id}"] .job-status`)?.textContent === "cancelled", slow.id);
  check((await api("GET", `/api/v1/generation-jobs/${slow.id}`)).status === "cancelled", `job ${slow.id} cancelled from the history`);
  const retried = page.waitForResponse((r) => r.url().endsWith("/api/v1/generation-jobs") && r.request().method() === "POST");
  await page.getByRole("button", { name: `Retry job ${slow.id}` }).click();
  const again = await (await retried).json();
  check(again.id !== slow.id && again.prompt === slow.prompt, `retry submitted the same request as job ${again.id}`);
  await page.locator(`tr[data-job="${again.id}"]`).waitFor();
  await api("POST", `/api/v1/generation-jobs/${again.id}/cancel`);

  // 5. For you: explanation, dismiss, refresh, gone.
  await go(page, "For you", "For you");
  await page.getByLabel("Acting as user").selectOption(String(alice.id));
  // Every refresh started so far has filled the list (the picker starts one, the choice another).
  await page.waitForFunction(() => document.querySelector(".recs")?.getAttribute("aria-busy") === "false" && document.querySelector(".rec"));
  const why = await page.locator(".rec .why").first().textContent();
  check(/Algorithm: /.test(why), `a recommendation explains itself (${why.replace(/\s+/g, " ").slice(0, 120)})`);
  const dismissed = await page.locator(".rec").first().getAttribute("data-content");
  await page.locator(".rec").first().getByRole("button", { name: /^Dismiss/ }).click();
  await page.waitForFunction((id) => !document.querySelector(`.rec[data-content="${id}"]`), dismissed);
  const regenerated = page.waitForResponse((r) => r.url().endsWith("/api/v1/recommendations/generate"));
  await page.getByRole("button", { name: "Refresh" }).click();
  check((await regenerated).status() === 200, "refresh generated recommendations afresh");
  await page.waitForFunction(() => !/Computing/.test(document.querySelector("main .status")?.textContent || "Computing"));
  const after = await page.locator(".rec").evaluateAll((rows) => rows.map((r) => r.dataset.content));
  check(!after.includes(dismissed), `after refresh the dismissed item ${dismissed} is gone (now ${after.join(", ")})`);
  await axe(page, "for-you");
  await shot(page, "for-you");

  // 6. Experiments: create, results.
  await go(page, "Experiments", "Experiments");
  const experiment = `console-${stamp}`;
  await page.getByLabel("Name", { exact: true }).first().fill(experiment);
  await page.getByLabel("Description").fill("hybrid against popularity");
  await page.getByRole("button", { name: "Create experiment" }).click();
  await page.getByRole("heading", { level: 1, name: `Experiment ${experiment}` }).waitFor();
  check(/#\/experiments\/\d+$/.test(page.url()), `creating an experiment leads to its results page (${new URL(page.url()).hash})`);
  // Traffic through it (as an app would send): users served, some engage, some dismiss.
  const id = Number(new URL(page.url()).hash.split("/").pop());
  for (let u = 0; u < 8; u++) {
    const user = await api("POST", "/api/v1/users", { username: `exp${stamp}x${u}`, email: `exp${stamp}x${u}@example.com` });
    const { recommendations } = await api("POST", "/api/v1/recommendations/generate", { user_id: user.id, algorithm_version: `experiment:${experiment}`, limit: 3 });
    await api("POST", "/api/v1/recommendations/served", { recommendation_ids: recommendations.map((r) => r.id) });
    if (recommendations[0]) await api("PUT", `/api/v1/recommendations/${recommendations[0].id}/feedback`, { feedback: u % 2 ? "liked" : "dismissed" });
  }
  await page.reload();
  await page.waitForFunction((h) => document.getElementById("main").dataset.rendered === h, `#/experiments/${id}`);
  const served = await page.locator("table.results tbody tr td:nth-child(4)").allTextContents();
  check(served.reduce((a, n) => a + Number(n), 0) > 0, `the results count what was served (${served.join(", ")})`);
  const variants = await page.locator("table.results tbody tr").count();
  check(variants === 2 && (await page.locator("figure svg").count()) >= 1, `the results page shows ${variants} variants and a chart`);
  await axe(page, "experiment");
  await shot(page, "experiment");

  // 7. Operations: revoke a key.
  await go(page, "Operations", "Operations");
  const victimPrefix = victim.slice(4, 12);
  const row = page.locator(`tr[data-prefix="${victimPrefix}"]`);
  await row.waitFor();
  check((await api("GET", "/api/v1/users", undefined, victim)).items !== undefined, "the key to revoke works before");
  await row.getByRole("button", { name: /Revoke/ }).click();
  await page.locator(`tr[data-prefix="${victimPrefix}"]`, { hasText: "revoked" }).waitFor();
  const refused = await api("GET", "/api/v1/users", undefined, victim).then(() => 200, (e) => e.status);
  check(refused === 401, `the revoked key is refused (${refused})`);
  check((await page.locator(`tr[data-prefix="${key.slice(4, 12)}"]`).textContent()).includes("(this session)"), "the session's own key offers no revoke");
  await page.getByLabel("Name", { exact: true }).fill("console-made");
  await page.getByRole("button", { name: "Create key" }).click();
  await page.locator(".secret-value").waitFor();
  const made = await page.locator(".secret-value").inputValue();
  check(/^gnt_[0-9a-f]{8}_[0-9a-f]{40}$/.test(made), "a key created on the page is shown once");
  check((await api("GET", "/api/v1/users", undefined, made)).items !== undefined, "the created key works");
  check(await page.locator(`tr[data-prefix="${made.slice(4, 12)}"]`).isVisible(), "the created key is listed");
  await page.waitForFunction(() => /\(([2-9]|\d\d+) samples\)/.test(document.querySelector(".panels")?.textContent || ""), null, { timeout: 20_000 });
  check((await page.locator(".panel svg.chart").count()) >= 3, "the metrics charts are drawn");
  await axe(page, "operations");
  await shot(page, "operations");
  await context.close();

  // 8. A phone-sized screen.
  const phone = await newPage({ width: 375, height: 812 });
  await signIn(phone.page);
  const wide = () =>
    phone.page.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      culprits: [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".scroll"))
        .slice(0, 3)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}`),
    }));
  const { overflow, culprits } = await wide();
  check(overflow <= 0, `at 375×812 nothing scrolls sideways (${overflow} px ${culprits.join(" ")})`);
  await axe(phone.page, "gallery at 375×812");
  await shot(phone.page, "gallery-phone");
  await go(phone.page, "Operations", "Operations");
  await phone.page.locator("table.keys").waitFor();
  const ops = await wide();
  check(ops.overflow <= 0, `at 375×812 operations does not scroll sideways (${ops.overflow} px ${ops.culprits.join(" ")})`);
  await phone.context.close();

  check(outside.length === 0, `no request left this machine (${outside.length}${outside.length ? `: ${outside[0]}` : ""})`);
  check(problems.length === 0, `no CSP violation or page error${problems.length ? `: ${problems.join("; ")}` : ""}`);
  const leaked = urls.filter((u) => u.includes(key) || u.includes(key.slice(13)) || u.includes("gnt_"));
  check(leaked.length === 0, `the key is in no URL (${urls.length} requests)`);
} catch (e) {
  failures.push(e.message);
  console.error(e);
  if (current) {
    const text = await current.evaluate(() => `${location.hash}\n${document.querySelector("main")?.innerText}\ntoast: ${document.getElementById("toast")?.textContent}`).catch(() => "");
    console.error(`the page when it failed:\n${text.slice(0, 2000)}`);
    if (shots) await current.screenshot({ path: `${shots}/failure.png` }).catch(() => {});
  }
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(`console: ${failures.length} failure(s)`);
  process.exit(1);
}
console.log("the console works in the browser");
