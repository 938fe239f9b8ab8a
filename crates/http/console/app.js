// The console's entry: sign-in (an API key kept in this tab's sessionStorage only), the data
// set picker (X-Genonaut-Schema) and a hash router over the pages. Every page is a module with
// `render(main, route)` that may return a clean-up function (sockets, timers).
import { ApiError, get, session } from "./api.js";
import { field, fill, h, heading, status } from "./ui.js";
import * as gallery from "./gallery.js";
import * as item from "./item.js";
import * as generate from "./generate.js";
import * as forYou from "./for-you.js";
import * as experiments from "./experiments.js";
import * as ops from "./ops.js";

const pages = {
  gallery: { module: gallery, title: "Gallery" },
  item: { module: item, title: "Item", nav: "gallery" },
  generate: { module: generate, title: "Generate" },
  "for-you": { module: forYou, title: "For you" },
  experiments: { module: experiments, title: "Experiments" },
  ops: { module: ops, title: "Operations" },
};

const main = document.getElementById("main");
let cleanup = null;
let authNeeded = null;

/** #/page/arg?x=1 → {page, args: [...], params: URLSearchParams} */
export function parseRoute(hash = location.hash) {
  const [path, query = ""] = hash.replace(/^#\/?/, "").split("?");
  const [page, ...args] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { page: page || "gallery", args, params: new URLSearchParams(query) };
}

async function needsKey() {
  if (authNeeded !== null) return authNeeded;
  try {
    await get("/api/v1/schemas", { anonymous: true });
    authNeeded = false;
  } catch (e) {
    authNeeded = e instanceof ApiError && e.status === 401;
  }
  return authNeeded;
}

function signIn(message) {
  const input = h("input", { type: "password", name: "key", autocomplete: "off", spellcheck: "false", required: true });
  const note = status(message || "", message ? "error" : "info");
  const form = h(
    "form",
    { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", tabindex: "-1" }, "Sign in"),
    h("p", {}, "This server needs an API key. It is kept for this browser tab only and never put in a URL."),
    field("API key", input, "gnt_… (create one with `genonaut keys create`)"),
    h("button", { type: "submit" }, "Sign in"),
    note,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    session.key = input.value.trim();
    try {
      await get("/api/v1/schemas", { quiet: true });
      input.value = "";
      await start();
    } catch (e) {
      session.key = "";
      note.className = "status error";
      note.textContent = e.status === 401 ? `Not accepted: ${e.message}` : e.message;
    }
  });
  fill(main, form);
  document.getElementById("signout").hidden = true;
  form.querySelector("h1").focus();
}

async function loadSchemas() {
  const picker = document.getElementById("schema");
  const { default: fallback, schemas } = await get("/api/v1/schemas");
  const names = schemas.map((s) => s.name);
  if (!names.includes(session.schema)) session.schema = "";
  fill(
    picker,
    schemas.map((s) => h("option", { value: s.name, selected: (session.schema || fallback) === s.name }, s.name + (s.is_default ? " (default)" : ""))),
  );
}

async function route() {
  if (cleanup) {
    try {
      cleanup();
    } catch {}
    cleanup = null;
  }
  const current = parseRoute();
  const page = pages[current.page] || pages.gallery;
  const nav = page.nav || current.page;
  document.querySelectorAll("#nav a").forEach((a) => {
    if (a.dataset.page === nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  document.title = `${page.title} — Genonaut console`;
  fill(main, heading(page.title), status("Loading…"));
  main.setAttribute("aria-busy", "true");
  try {
    cleanup = (await page.module.render(main, current)) || null;
  } catch (e) {
    fill(main, heading(page.title), status(e.message || String(e), "error"));
  }
  main.setAttribute("aria-busy", "false");
  main.dataset.rendered = location.hash;
  const title = main.querySelector("h1");
  if (title && document.activeElement?.closest?.("main") == null) title.focus({ preventScroll: true });
}

async function start() {
  if (session.key === "" && (await needsKey())) return signIn();
  document.getElementById("signout").hidden = session.key === "";
  try {
    await loadSchemas();
  } catch (e) {
    if (e.status === 401) return;
    fill(main, status(e.message, "error"));
    return;
  }
  await route();
}

window.addEventListener("hashchange", () => route());
window.addEventListener("genonaut:unauthorized", () => {
  session.key = "";
  signIn("The server refused the key (missing, invalid, revoked or expired). Sign in again.");
});
document.getElementById("schema").addEventListener("change", (e) => {
  session.schema = e.target.value;
  route();
});
document.getElementById("signout").addEventListener("click", () => {
  session.key = "";
  authNeeded = null;
  start();
});
start();
