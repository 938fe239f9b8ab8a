// Generate: a job form (type, prompt, parameters), the job's live progress over the WebSocket
// (opened with a single-use ticket; previews as they come), the result, and the user's job
// history with cancel and retry (retry submits the same request again).
import { followJob, get, post, qs, session } from "./api.js";
import { action, field, fill, h, heading, media, select, status, toast, userPicker, when, scroller } from "./ui.js";

export async function render(main) {
  let live = null;
  const type = select("job_type", [["image", "Image"], ["text", "Text"], ["audio", "Audio"], ["video", "Video"]], "image");
  const prompt = h("textarea", { name: "prompt", rows: 3, required: true }, "");
  const seed = h("input", { type: "number", name: "seed", min: 0, inputmode: "numeric" });
  const width = h("input", { type: "number", name: "width", min: 16, max: 2048, value: 256, inputmode: "numeric" });
  const height = h("input", { type: "number", name: "height", min: 16, max: 2048, value: 256, inputmode: "numeric" });
  const extra = h("textarea", { name: "parameters", rows: 2, spellcheck: "false" }, "");
  const submit = h("button", { type: "submit" }, "Generate");
  const form = h(
    "form",
    { class: "generate", "aria-label": "New generation job" },
    field("Type", type),
    field("Prompt", prompt),
    h("div", { class: "row" }, field("Width", width), field("Height", height), field("Seed", seed, "empty = random")),
    field("More parameters (JSON object)", extra, 'e.g. {"steps": 20}'),
    submit,
  );
  const progress = h("progress", { max: 1, value: 0, "aria-label": "Progress" });
  const state = status("No job yet.");
  const preview = h("div", { class: "preview" });
  const result = h("div", { class: "result" });
  const liveBox = h("section", { class: "live", "aria-labelledby": "live-title" }, h("h2", { id: "live-title" }, "Progress"), progress, state, preview, result);
  const historyBody = h("tbody");
  const history = h(
    "table",
    { class: "jobs" },
    h("caption", {}, "Jobs of this user, newest first"),
    h("thead", {}, h("tr", {}, ["Job", "Type", "Prompt", "Status", "Created", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
    historyBody,
  );

  async function loadHistory() {
    if (!session.user) return fill(historyBody, h("tr", {}, h("td", { colspan: 6 }, "Choose a user.")));
    const jobs = await get(`/api/v1/users/${session.user}/generation-jobs${qs({ limit: 20 })}`);
    fill(
      historyBody,
      jobs.items.length
        ? jobs.items.map((job) =>
            h(
              "tr",
              { "data-job": job.id },
              h("td", {}, `#${job.id}`),
              h("td", {}, job.job_type.replace("_generation", "")),
              h("td", { class: "prompt" }, job.prompt),
              h("td", { class: `job-status ${job.status}` }, job.status === "running" ? `running ${Math.round(100 * job.progress)} %` : job.status),
              h("td", {}, when(job.created_at)),
              h(
                "td",
                { class: "actions" },
                job.result_content_id ? h("a", { href: `#/item/${job.result_content_id}` }, "Result") : null,
                ["pending", "running"].includes(job.status)
                  ? action("Cancel", async () => {
                      await post(`/api/v1/generation-jobs/${job.id}/cancel`);
                      toast(`Job #${job.id} cancelled`);
                      await loadHistory();
                    }, { "aria-label": `Cancel job ${job.id}` })
                  : null,
                ["failed", "cancelled"].includes(job.status)
                  ? action("Retry", async () => {
                      const again = await post("/api/v1/generation-jobs", {
                        user_id: job.user_id,
                        job_type: job.job_type,
                        prompt: job.prompt,
                        parameters: job.parameters,
                      });
                      toast(`Job #${again.id} submitted`);
                      await watch(again);
                    }, { "aria-label": `Retry job ${job.id}` })
                  : null,
              ),
            ),
          )
        : h("tr", {}, h("td", { colspan: 6 }, "No jobs yet.")),
    );
  }

  async function watch(job) {
    if (live) live.close();
    progress.value = 0;
    fill(preview);
    fill(result);
    state.className = "status info";
    state.textContent = `Job #${job.id}: ${job.status}`;
    liveBox.dataset.job = job.id;
    liveBox.dataset.status = job.status;
    loadHistory().catch(() => {});
    live = await followJob(job.id, (message) => {
      const kind = message.type === "snapshot" ? message.job.status : message.type;
      liveBox.dataset.status = kind;
      if (message.type === "snapshot") progress.value = message.job.progress || 0;
      if (typeof message.progress === "number") progress.value = message.progress;
      else if (message.total) progress.value = message.step / message.total;
      if (message.preview_url) fill(preview, h("img", { src: message.preview_url, alt: `Preview of job ${job.id}`, class: "media" }));
      state.textContent = `Job #${job.id}: ${kind}${kind === "progress" ? ` ${Math.round(100 * progress.value)} %` : ""}`;
      if (message.type === "failed") {
        state.className = "status error";
        state.textContent = `Job #${job.id} failed: ${message.error_message || message.error || "unknown error"}`;
      }
    });
    const closed = await live.done;
    const final = await get(`/api/v1/generation-jobs/${job.id}`);
    liveBox.dataset.status = final.status;
    if (final.status === "completed" && final.result_content_id) {
      progress.value = 1;
      const item = await get(`/api/v1/content/${final.result_content_id}`);
      fill(preview);
      fill(result, h("a", { href: `#/item/${item.id}`, class: "result-link" }, media(item, { large: true }), h("span", {}, `Open “${item.title}”`)));
      state.textContent = `Job #${job.id}: completed`;
    } else if (final.status !== "failed") {
      state.textContent = `Job #${job.id}: ${final.status}${closed.code !== 1000 ? ` (live view closed: ${closed.code})` : ""}`;
    }
    await loadHistory();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      if (!session.user) throw new Error("Choose or add a user first.");
      let parameters = {};
      if (extra.value.trim()) {
        parameters = JSON.parse(extra.value);
        if (typeof parameters !== "object" || Array.isArray(parameters) || parameters === null) throw new Error("More parameters must be a JSON object.");
      }
      if (seed.value !== "") parameters.seed = Number(seed.value);
      if (["image", "video"].includes(type.value)) {
        parameters.width = Number(width.value);
        parameters.height = Number(height.value);
      }
      const job = await post("/api/v1/generation-jobs", { user_id: Number(session.user), job_type: type.value, prompt: prompt.value, parameters });
      toast(`Job #${job.id} submitted`);
      await watch(job);
    } catch (e) {
      state.className = "status error";
      state.textContent = e.message;
    } finally {
      submit.disabled = false;
    }
  });

  const picker = await userPicker(() => loadHistory().catch((e) => toast(e.message)));
  fill(main, heading("Generate"), picker, h("div", { class: "two" }, form, liveBox), h("h2", {}, "History"), scroller("Job history", history));
  await loadHistory();
  return () => live && live.close();
}
