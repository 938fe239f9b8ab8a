// Experiments: running and stopped experiments, a form to create one, and each experiment's
// results page — variants, engagement and rejection rates with 95 % intervals as a chart.
import { get, post, qs } from "./api.js";
import { intervalChart } from "./charts.js";
import { action, field, fill, h, heading, pct, select, status, toast, when, scroller } from "./ui.js";

const ALGORITHMS = [["popularity", "popularity"], ["content", "content"], ["item-knn", "item-knn"], ["ease", "ease"], ["hybrid", "hybrid"]];

export async function render(main, { args }) {
  if (args[0]) return results(main, Number(args[0]));
  const body = h("tbody");
  const table = h(
    "table",
    { class: "experiments" },
    h("caption", {}, "Experiments, newest first"),
    h("thead", {}, h("tr", {}, ["Name", "Status", "Variants", "Created"].map((c) => h("th", { scope: "col" }, c)))),
    body,
  );
  const list = await get(`/api/v1/experiments${qs({ limit: 100 })}`);
  fill(
    body,
    list.items.length
      ? list.items.map((e) =>
          h(
            "tr",
            {},
            h("td", {}, h("a", { href: `#/experiments/${e.id}` }, e.name)),
            h("td", {}, e.status),
            h("td", {}, e.variants.map((v) => `${v.name}: ${v.algorithm} (${pct(v.share)})`).join(", ")),
            h("td", {}, when(e.created_at)),
          ),
        )
      : h("tr", {}, h("td", { colspan: 4 }, "No experiments yet.")),
  );
  fill(main, heading("Experiments"), scroller("Experiments", table), h("h2", {}, "New experiment"), createForm());
}

function variantRow(name, algorithm) {
  return h(
    "fieldset",
    { class: "variant" },
    h("legend", {}, "Variant"),
    field("Name", h("input", { type: "text", name: "variant_name", value: name, required: true, maxlength: 50 })),
    field("Algorithm", select("variant_algorithm", ALGORITHMS, algorithm)),
    field("Weight", h("input", { type: "number", name: "variant_weight", value: 1, min: 0.01, step: "any", required: true })),
  );
}

function createForm() {
  const variants = h("div", { class: "variants" }, variantRow("control", "popularity"), variantRow("treatment", "hybrid"));
  const note = status("");
  const form = h(
    "form",
    { class: "new-experiment", "aria-label": "New experiment" },
    field("Name", h("input", { type: "text", name: "name", required: true, maxlength: 39, pattern: "[A-Za-z0-9._\\-]+" }), "letters, digits, - _ ."),
    field("Description", h("input", { type: "text", name: "description", maxlength: 1000 })),
    field("Engagement window (hours)", h("input", { type: "number", name: "window", min: 1, max: 720, value: 24 })),
    variants,
    h("div", { class: "actions" }, action("Add variant", () => variants.append(variantRow(`variant${variants.children.length + 1}`, "item-knn"))), h("button", { type: "submit" }, "Create experiment")),
    note,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const names = data.getAll("variant_name");
    const algorithms = data.getAll("variant_algorithm");
    const weights = data.getAll("variant_weight");
    try {
      const created = await post("/api/v1/experiments", {
        name: data.get("name"),
        description: data.get("description") || undefined,
        engagement_window_hours: Number(data.get("window")),
        variants: names.map((name, i) => ({ name, algorithm: algorithms[i], weight: Number(weights[i]) })),
      });
      toast(`Experiment ${created.name} created`);
      location.hash = `#/experiments/${created.id}`;
    } catch (e) {
      note.className = "status error";
      note.textContent = e.message;
    }
  });
  return form;
}

async function results(main, id) {
  const r = await get(`/api/v1/experiments/${id}/results`);
  const e = r.experiment;
  const body = h("tbody");
  fill(
    body,
    r.variants.map((v) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, v.name),
        h("td", {}, v.algorithm),
        h("td", {}, String(v.users)),
        h("td", {}, String(v.served)),
        h("td", {}, String(v.engaged)),
        h("td", {}, `${pct(v.engagement_rate.rate)} (${pct(v.engagement_rate.low)}–${pct(v.engagement_rate.high)})`),
        h("td", {}, `${pct(v.rejection_rate.rate)}`),
      ),
    ),
  );
  const stop =
    e.status === "running"
      ? action("Stop experiment", async () => {
          await post(`/api/v1/experiments/${id}/stop`);
          toast(`Experiment ${e.name} stopped`);
          await results(main, id);
        })
      : null;
  fill(
    main,
    heading(`Experiment ${e.name}`, h("p", { class: "back" }, h("a", { href: "#/experiments" }, "← Experiments"))),
    h(
      "dl",
      { class: "details" },
      h("dt", {}, "Status"), h("dd", { "data-field": "status" }, e.status),
      h("dt", {}, "Label"), h("dd", {}, h("code", {}, e.label)),
      h("dt", {}, "Description"), h("dd", {}, e.description || "—"),
      h("dt", {}, "Window"), h("dd", {}, `${e.engagement_window_hours} h`),
      h("dt", {}, "Created"), h("dd", {}, when(e.created_at)),
      e.stopped_at ? [h("dt", {}, "Stopped"), h("dd", {}, when(e.stopped_at))] : null,
      h("dt", {}, "Leader"), h("dd", {}, r.leader ? `${r.leader}${r.test ? ` (p = ${r.test.p_value.toPrecision(2)}, ${r.test.method})` : ""}` : "none significant yet"),
    ),
    stop,
    h("h2", {}, "Results"),
    scroller(
      "Results per variant",
      h(
        "table",
        { class: "results" },
        h("caption", {}, "Per variant: users assigned, recommendations served, engaged within the window"),
        h("thead", {}, h("tr", {}, ["Variant", "Algorithm", "Users", "Served", "Engaged", "Engagement (95 % CI)", "Rejection"].map((c) => h("th", { scope: "col" }, c)))),
        body,
      ),
    ),
    h(
      "div",
      { class: "charts" },
      intervalChart("Engagement rate", r.variants.map((v) => ({ label: v.name, ...v.engagement_rate }))),
      intervalChart("Rejection rate", r.variants.map((v) => ({ label: v.name, ...v.rejection_rate }))),
    ),
    h("p", {}, "Serve it with ", h("code", {}, `"algorithm_version": "${e.label}"`), " on POST /api/v1/recommendations/generate."),
  );
}
