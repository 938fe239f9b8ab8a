// For you: a chosen user's recommendations with their explanations ("because you liked …",
// tags, algorithm), like / dismiss as feedback, and refresh — which generates afresh, so the
// effect of the feedback shows (a dismissed item is never recommended again).
import { get, post, put, session } from "./api.js";
import { action, field, fill, h, heading, media, select, status, toast, userPicker } from "./ui.js";

const ALGORITHMS = [
  ["hybrid", "Hybrid (default)"],
  ["popularity", "Popularity"],
  ["content", "Content (tags, meaning)"],
  ["item-knn", "Item-kNN"],
  ["ease", "Learned (EASE)"],
];

export async function render(main, { params }) {
  const algorithm = select("algorithm", ALGORITHMS, params.get("algorithm") || "hybrid");
  const list = h("ol", { class: "recs", "aria-label": "Recommendations" });
  const note = status("");
  const titles = new Map();
  // Refreshes can overlap (the user picker and the buttons each start one): only the latest
  // fills the list, and an item dismissed here never comes back on this page, even from a
  // refresh computed before the dismissal.
  let latest = 0;
  const dismissedHere = new Set();
  const title = async (id) => {
    if (!titles.has(id)) titles.set(id, get(`/api/v1/content/${id}`).then((c) => c.title, () => `item #${id}`));
    return titles.get(id);
  };

  async function explain(rec) {
    const m = rec.rec_metadata || {};
    const lines = [];
    if (Array.isArray(m.because_items) && m.because_items.length) {
      const names = await Promise.all(m.because_items.map(title));
      lines.push(h("li", {}, "Because you liked ", names.map((n, i) => [i ? ", " : "", h("a", { href: `#/item/${m.because_items[i]}` }, n)])));
    }
    if (Array.isArray(m.because_tags) && m.because_tags.length) lines.push(h("li", {}, `Tags you like: ${m.because_tags.join(", ")}`));
    lines.push(h("li", {}, `Algorithm: ${m.algorithm || rec.algorithm_version}${m.rank ? `, rank ${m.rank}` : ""}, score ${rec.recommendation_score.toFixed(3)}`));
    if (m.experiment) lines.push(h("li", {}, `Experiment ${m.experiment.name}, variant ${m.experiment.variant}`));
    if (m.demoted) lines.push(h("li", {}, `Demoted: ${m.demoted}`));
    for (const n of [].concat(m.notes || [], m.note || [])) lines.push(h("li", { class: "muted" }, String(n)));
    return h("ul", { class: "why", "aria-label": "Why this is recommended" }, lines);
  }

  async function refresh() {
    if (!session.user) {
      note.textContent = "Choose or add a user.";
      return fill(list);
    }
    note.className = "status";
    note.setAttribute("role", "status");
    note.textContent = "Computing recommendations…";
    const mine = ++latest;
    list.setAttribute("aria-busy", "true");
    try {
      await fillList(mine);
    } finally {
      if (mine === latest) list.setAttribute("aria-busy", "false");
    }
  }

  async function fillList(mine) {
    const { recommendations: found } = await post("/api/v1/recommendations/generate", { user_id: Number(session.user), algorithm_version: algorithm.value, limit: 10 });
    const recs = found.filter((rec) => !dismissedHere.has(String(rec.content_item_id)));
    const rows = await Promise.all(
      recs.map(async (rec) => {
        const item = await get(`/api/v1/content/${rec.content_item_id}`);
        titles.set(item.id, Promise.resolve(item.title));
        const row = h("li", { class: "rec", "data-content": item.id, "data-rec": rec.id });
        const feedback = (kind, label) =>
          action(label, async () => {
            await put(`/api/v1/recommendations/${rec.id}/feedback`, { feedback: kind });
            toast(`${kind}: ${item.title}`);
            if (kind === "dismissed") {
              dismissedHere.add(String(item.id));
              row.remove();
              note.textContent = `Dismissed “${item.title}”. Refresh: it will not come back.`;
            } else {
              row.classList.add("liked");
              note.textContent = `Liked “${item.title}”. Refresh to see what that changes.`;
            }
          }, { "aria-label": `${label}: ${item.title}`, "data-action": kind });
        row.append(
          h("a", { href: `#/item/${item.id}`, class: "rec-media", tabindex: "-1", "aria-hidden": "true" }, media(item)),
          h(
            "div",
            { class: "rec-body" },
            h("h2", { class: "rec-title" }, h("a", { href: `#/item/${item.id}` }, item.title)),
            await explain(rec),
            h("div", { class: "actions" }, feedback("liked", "Like"), feedback("dismissed", "Dismiss")),
          ),
        );
        return row;
      }),
    );
    if (mine !== latest) return;
    fill(list, rows.length ? rows : h("li", {}, "Nothing to recommend yet: interact with some content first."));
    note.textContent = `${rows.length} recommendation${rows.length === 1 ? "" : "s"} for user #${session.user} (${algorithm.value}).`;
    if (recs.length) await post("/api/v1/recommendations/served", { recommendation_ids: recs.map((r) => r.id) }).catch(() => {});
  }

  const refreshOrSay = () =>
    refresh().catch((e) => {
      note.className = "status error";
      note.textContent = e.message;
    });
  const refreshButton = action("Refresh", refreshOrSay, { class: "primary", "data-action": "refresh" });
  algorithm.addEventListener("change", refreshOrSay);
  const picker = await userPicker(refreshOrSay);
  fill(main, heading("For you"), h("div", { class: "toolbar" }, picker, field("Algorithm", algorithm), refreshButton), note, list);
  if (!session.user) await refresh();
}
