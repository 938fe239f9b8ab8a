// The documentation UIs in headless Chromium with the outside network blocked: every request
// to a host other than this machine is aborted and recorded, and the check fails if there was
// any. Swagger UI (/docs) and Redoc (/redoc) must render every operation of /openapi.json, with
// no Content-Security-Policy violation and no page error.
//
//   node docs-ui.mjs http://127.0.0.1:PORT [screenshot-dir]
//
// Run by scripts/docs-ui-check.sh. CHROMIUM names the browser (default /usr/bin/chromium).
import { chromium } from "playwright-core";

const base = process.argv[2];
const shots = process.argv[3];
const local = new Set(["127.0.0.1", "localhost", "[::1]"]);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // Root in CI has no user namespace for Chromium's sandbox.
  args: ["--no-sandbox", "--disable-background-networking"],
});
const failures = [];
try {
  const operations = await fetch(`${base}/openapi.json`)
    .then((r) => r.json())
    .then((doc) => Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0));
  console.log(`/openapi.json: ${operations} operations`);

  for (const { path, selector } of [
    { path: "/docs", selector: ".opblock" },
    { path: "/redoc", selector: '[data-section-id^="operation/"]' },
  ]) {
    const context = await browser.newContext();
    const outside = [];
    const problems = [];
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (local.has(url.hostname)) return route.continue();
      outside.push(url.href);
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && /Content.Security.Policy|Refused to/i.test(m.text())) {
        problems.push(`console: ${m.text()}`);
      }
    });
    await page.goto(`${base}${path}`, { waitUntil: "load" });
    let rendered = 0;
    try {
      await page.waitForFunction(
        ([sel, n]) => document.querySelectorAll(sel).length >= n,
        [selector, operations],
        { timeout: 60_000 },
      );
    } catch {
      // Reported below with the count reached.
    }
    rendered = await page.locator(selector).count();
    await page.waitForLoadState("networkidle").catch(() => {});
    if (shots) await page.screenshot({ path: `${shots}/${path.slice(1)}.png` });
    console.log(`${path}: ${rendered} operations rendered (${selector}), ${outside.length} outside requests`);
    if (rendered < operations) failures.push(`${path}: ${rendered} of ${operations} operations rendered`);
    for (const url of outside) failures.push(`${path}: request to another host: ${url}`);
    failures.push(...problems.map((p) => `${path}: ${p}`));
    await context.close();
  }
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("documentation UIs render offline");
