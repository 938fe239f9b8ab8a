// Small DOM helpers: elements without innerHTML (no markup from data ever reaches the parser),
// labelled form fields, status messages, content cards.

import { get, post, session } from "./api.js";

let ids = 0;

/** An element: h("a", {href: "#/", class: "x", onclick: f}, "text", child, …). */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "value" || name === "checked" || name === "selected") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function uid(prefix = "f") {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled control: field("Prompt", h("textarea", {name: "prompt"})). */
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  const hintEl = hint ? h("small", { id: `${id}-hint`, class: "hint" }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

/** A <select> from [value, label] pairs. */
export function select(name, options, current) {
  return h(
    "select",
    { name },
    options.map(([value, label]) => h("option", { value, selected: String(value) === String(current ?? "") }, label)),
  );
}

/** The page's heading (focused after navigation so keyboard and screen-reader users land here). */
export function heading(text, ...extra) {
  return h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, text), ...extra);
}

/** A status line that screen readers announce. */
export function status(text = "", kind = "info") {
  return h("p", { class: `status ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function showError(el, error) {
  el.className = "status error";
  el.setAttribute("role", "alert");
  el.textContent = error instanceof Error ? error.message : String(error);
}

/** A short-lived message in the page's live region. */
export function toast(text) {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.textContent = ""), 4000);
}

export function when(timestamp) {
  if (!timestamp) return "—";
  const date = new Date(`${timestamp}Z`);
  return Number.isNaN(date.getTime()) ? timestamp : date.toLocaleString();
}

export function pct(x) {
  return `${(100 * x).toFixed(1)} %`;
}

/** A content item's picture, player or text, for a card or the item page. */
export function media(item, { large = false } = {}) {
  const url = item.media_url;
  const alt = `${item.content_type}: ${item.title}`;
  if (url && (item.content_type === "image" || item.content_type === "video")) {
    return h("img", { src: url, alt, loading: "lazy", class: large ? "media large" : "media", decoding: "async" });
  }
  if (url && item.content_type === "audio") {
    if (large) return h("audio", { src: url, controls: true, preload: "none", "aria-label": alt });
    return h("div", { class: "textcard audio", "aria-hidden": "true" }, "♪ audio");
  }
  if (item.content_type === "text") {
    const text = item.content_data || "";
    return h("div", { class: large ? "textcard large" : "textcard" }, large ? text : text.slice(0, 160));
  }
  return h("div", { class: "textcard" }, item.content_type);
}

/** A gallery card linking to the item page. */
export function card(item, extra) {
  return h(
    "li",
    { class: "card" },
    h(
      "a",
      { href: `#/item/${item.id}`, class: "card-link" },
      media(item),
      h("span", { class: "card-title" }, item.title),
    ),
    h("span", { class: "card-meta" }, `${item.content_type} · #${item.id}`, item.tags.length ? ` · ${item.tags.slice(0, 3).join(", ")}` : ""),
    extra,
  );
}

/** A button that disables itself while its action runs and reports failures. */
export function action(label, run, attrs = {}) {
  const button = h("button", { type: "button", ...attrs }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await run(button);
    } catch (e) {
      toast(e.message || String(e));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/**
 * "Acting as user": a labelled <select> of the data set's users (the choice is kept for the
 * tab), with a way to create one. `onChange(userId)` runs on load and on every change.
 */
export async function userPicker(onChange) {
  const { items } = await get("/api/v1/users?limit=200&active_only=true");
  const picker = h("select", { name: "user" });
  const box = h("div", { class: "user-picker" });
  const render = (users) => {
    fill(
      picker,
      users.length ? null : h("option", { value: "" }, "no users yet"),
      users.map((u) => h("option", { value: u.id, selected: String(u.id) === session.user }, `${u.username} (#${u.id})`)),
    );
    if (!users.some((u) => String(u.id) === session.user)) session.user = users[0]?.id ?? "";
    picker.value = session.user;
  };
  render(items);
  picker.addEventListener("change", () => {
    session.user = picker.value;
    onChange(picker.value);
  });
  const name = h("input", { type: "text", name: "username", autocomplete: "off", size: 12 });
  const create = action("Add user", async () => {
    const username = name.value.trim() || `console${Date.now() % 100000}`;
    const user = await post("/api/v1/users", { username, email: `${username}@example.com` });
    session.user = user.id;
    items.unshift(user);
    render(items);
    name.value = "";
    onChange(String(user.id));
  });
  const details = h("details", { class: "add-user" }, h("summary", {}, "New user"), field("Username", name), create);
  box.append(field("Acting as user", picker), details);
  if (session.user) onChange(session.user);
  return box;
}

/** A horizontally scrollable box (wide tables on narrow screens), reachable by keyboard. */
export function scroller(label, child) {
  return h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": label }, child);
}
