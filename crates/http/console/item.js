// Item: the media, its details and interactions, similar items, and like / bookmark / share
// (recorded as interactions) and dismiss (feedback on the user's recommendation of it).
import { get, post, put, qs, session } from "./api.js";
import { action, card, fill, h, heading, media, status, toast, userPicker, when } from "./ui.js";

export async function render(main, { args, params }) {
  const id = Number(args[0]);
  if (!Number.isInteger(id) || id < 1) throw new Error("No such item: the address needs an item id.");
  const item = await get(`/api/v1/content/${id}`);
  const stats = h("dl", { class: "stats", "aria-label": "Interactions" });
  const history = h("ul", { class: "plain" });
  const similar = h("ul", { class: "grid small", "aria-label": "Similar items" });
  const note = status("");
  const buttons = h("div", { class: "actions", role: "group", "aria-label": "React" });

  async function refreshStats() {
    const [s, list] = await Promise.all([
      get(`/api/v1/interactions/content/${id}/stats`),
      get(`/api/v1/interactions/content/${id}/interactions${qs({ limit: 10 })}`),
    ]);
    const entries = Object.entries(s.stats);
    fill(stats, entries.length ? entries.map(([type, v]) => [h("dt", {}, type), h("dd", { "data-type": type }, String(v.count))]) : h("dd", {}, "none yet"));
    fill(history, list.items.map((i) => h("li", {}, `${when(i.created_at)} — user #${i.user_id} ${i.interaction_type}${i.rating ? ` (${i.rating}★)` : ""}`)));
  }

  async function react(type) {
    if (!session.user) throw new Error("Choose or add a user first.");
    await post("/api/v1/interactions", { user_id: Number(session.user), content_item_id: id, interaction_type: type, metadata: { source: "console" } });
    toast(`Recorded: ${type}`);
    note.textContent = `Recorded ${type} by user #${session.user}.`;
    await refreshStats();
  }

  async function dismiss() {
    if (!session.user) throw new Error("Choose or add a user first.");
    const recs = await get(`/api/v1/recommendations/content/${id}/recommendations${qs({ limit: 100 })}`);
    const mine = recs.items.filter((r) => String(r.user_id) === session.user && !r.rec_metadata?.feedback);
    if (!mine.length) {
      note.textContent = "Nothing to dismiss: this item was not recommended to this user.";
      return;
    }
    for (const r of mine) await put(`/api/v1/recommendations/${r.id}/feedback`, { feedback: "dismissed" });
    note.textContent = `Dismissed for user #${session.user}: it will not be recommended again.`;
    toast("Dismissed");
  }

  fill(
    buttons,
    action("♥ Like", () => react("like"), { "data-action": "like" }),
    action("Bookmark", () => react("bookmark"), { "data-action": "bookmark" }),
    action("Share", async () => {
      await react("share");
      const link = `${location.origin}/console#/item/${id}`;
      try {
        await navigator.clipboard.writeText(link);
        toast("Link copied");
      } catch {}
    }, { "data-action": "share" }),
    action("Dismiss", dismiss, { "data-action": "dismiss" }),
  );

  const picker = await userPicker(() => {});
  fill(
    main,
    heading(item.title, h("p", { class: "back" }, h("a", { href: "#/gallery" }, "← Gallery"))),
    h(
      "div",
      { class: "item" },
      h("div", { class: "item-media" }, media(item, { large: true })),
      h(
        "section",
        { class: "item-details", "aria-label": "Details" },
        h(
          "dl",
          { class: "details" },
          h("dt", {}, "Type"), h("dd", {}, item.content_type),
          h("dt", {}, "Creator"), h("dd", {}, `user #${item.creator_id}`),
          h("dt", {}, "Created"), h("dd", {}, when(item.created_at)),
          h("dt", {}, "Tags"), h("dd", {}, item.tags.length ? item.tags.map((t) => h("a", { href: `#/gallery?tag=${encodeURIComponent(t)}`, class: "tag" }, t)) : "—"),
          h("dt", {}, "Quality"), h("dd", {}, item.quality_score.toFixed(2)),
          h("dt", {}, "Visibility"), h("dd", {}, item.is_private ? "private" : item.is_public ? "public" : "unlisted"),
          item.item_metadata.prompt ? [h("dt", {}, "Prompt"), h("dd", {}, item.item_metadata.prompt)] : null,
        ),
        picker,
        buttons,
        note,
        h("h2", {}, "Interactions"),
        stats,
        history,
      ),
    ),
    h("h2", { id: "similar-title" }, "Similar items"),
    similar,
  );
  await refreshStats();
  try {
    const s = await get(`/api/v1/content/${id}/similar${qs({ limit: 8 })}`);
    fill(similar, s.items.length ? s.items.map((x) => card(x.content, h("span", { class: "card-meta" }, `similarity ${x.score.toFixed(2)}`))) : h("li", {}, "No similar items yet."));
    similar.setAttribute("aria-label", `Similar items (by ${s.source})`);
  } catch (e) {
    fill(similar, h("li", {}, e.message));
  }
}
