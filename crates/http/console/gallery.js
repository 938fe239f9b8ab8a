// Gallery: content as a grid (images and video posters through their signed media URLs, text
// and audio as cards), filters (type, tag, creator), text or semantic search, "load more".
import { get, post, qs } from "./api.js";
import { card, field, fill, h, heading, select, status } from "./ui.js";

const PAGE = 24;

export async function render(main, { params }) {
  const filters = {
    q: params.get("q") || "",
    mode: params.get("mode") || "text",
    type: params.get("type") || "",
    tag: params.get("tag") || "",
    creator: params.get("creator") || "",
  };
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter content" },
    field("Search", h("input", { type: "search", name: "q", value: filters.q })),
    field("Match", select("mode", [["text", "Title (text)"], ["semantic", "Meaning (semantic)"]], filters.mode)),
    field("Type", select("type", [["", "Any"], ["image", "Image"], ["video", "Video"], ["audio", "Audio"], ["text", "Text"]], filters.type)),
    field("Tag", h("input", { type: "text", name: "tag", value: filters.tag })),
    field("Creator id", h("input", { type: "number", name: "creator", min: 1, value: filters.creator, inputmode: "numeric" })),
    h("button", { type: "submit" }, "Apply"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    location.hash = `#/gallery${qs(Object.fromEntries([...data.entries()].filter(([k, v]) => v !== "" && !(k === "mode" && v === "text"))))}`;
  });
  const summary = status("Loading…");
  const grid = h("ul", { class: "grid", "aria-label": "Content" });
  const more = h("button", { type: "button", class: "more", hidden: true }, "Load more");
  fill(main, heading("Gallery"), form, summary, grid, more);

  let skip = 0;
  let cursor = null;
  let shown = 0;
  const semantic = filters.mode === "semantic" && filters.q.trim() !== "";

  async function page() {
    let answer;
    if (semantic) {
      answer = await post("/api/v1/content/search", {
        search_term: filters.q,
        search_mode: "semantic",
        content_type: filters.type || undefined,
        tags: filters.tag ? [filters.tag] : undefined,
        creator_id: filters.creator ? Number(filters.creator) : undefined,
        skip,
        limit: PAGE,
      });
    } else {
      const query = {
        search_term: filters.q,
        content_type: filters.type,
        tags: filters.tag ? [filters.tag] : undefined,
        creator_id: filters.creator,
        limit: PAGE,
      };
      // CURSOR: keyset paging — once the listing answers `next_cursor`, the next page is asked
      // for with `cursor=` (stays fast deep into a million items); until then skip/limit.
      if (cursor) query.cursor = cursor;
      else query.skip = skip;
      answer = await get(`/api/v1/content${qs(query)}`);
    }
    const items = answer.items || [];
    grid.append(...items.map((item) => card(item)));
    shown += items.length;
    skip += items.length;
    // CURSOR: prefer the server's cursor when it gives one; `null` means the last page.
    const hasCursor = Object.prototype.hasOwnProperty.call(answer, "next_cursor");
    cursor = hasCursor ? answer.next_cursor : null;
    const moreLeft = hasCursor ? Boolean(answer.next_cursor) : items.length === PAGE && (answer.total === undefined || shown < answer.total);
    more.hidden = !moreLeft;
    const total = typeof answer.total === "number" ? ` of ${answer.total}` : "";
    summary.textContent = shown ? `Showing ${shown}${total} item${shown === 1 ? "" : "s"}${semantic ? ", nearest in meaning first" : ", newest first"}.` : "No content matches.";
  }

  more.addEventListener("click", async () => {
    more.disabled = true;
    const before = grid.children.length;
    try {
      await page();
      grid.children[before]?.querySelector("a")?.focus();
    } catch (e) {
      summary.textContent = e.message;
      summary.className = "status error";
    } finally {
      more.disabled = false;
    }
  });
  await page();
}
