// The console's only way to the server: fetch() against the public API, with the API key from
// this tab's sessionStorage (never a URL, never localStorage) and the chosen data set in the
// X-Genonaut-Schema header. Live job status uses single-use tickets, media uses signed URLs.

const KEY = "genonaut.console.key";
const SCHEMA = "genonaut.console.schema";
const USER = "genonaut.console.user";

export const session = {
  get key() {
    return sessionStorage.getItem(KEY) || "";
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
  /** The user the console acts as (interactions, jobs, recommendations): not a secret. */
  get user() {
    return sessionStorage.getItem(USER) || "";
  },
  set user(value) {
    if (value) sessionStorage.setItem(USER, String(value));
    else sessionStorage.removeItem(USER);
  },
  get schema() {
    return sessionStorage.getItem(SCHEMA) || "";
  },
  set schema(value) {
    if (value) sessionStorage.setItem(SCHEMA, value);
    else sessionStorage.removeItem(SCHEMA);
  },
};

/** A refused request: HTTP status and the server's `detail`, made readable. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(describe(detail) || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

/** The contract's `detail`: a string, or a list of {loc, msg} problems. */
export function describe(detail) {
  if (detail == null) return "";
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((p) => `${(p.loc || []).filter((l) => l !== "body" && l !== "query").join(".")}: ${p.msg}`)
      .join("; ");
  }
  return JSON.stringify(detail);
}

/** `?a=1&tags=x&tags=y`, skipping empty values. */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(name, v));
    else search.append(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** One API call; resolves to the JSON body (or the text for non-JSON answers). */
export async function api(method, path, body, { raw = false, anonymous = false, quiet = false } = {}) {
  const headers = { Accept: raw ? "*/*" : "application/json" };
  if (session.key && !anonymous) headers.Authorization = `Bearer ${session.key}`;
  if (session.schema) headers["X-Genonaut-Schema"] = session.schema;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
  });
  const text = await response.text();
  let data = text;
  if (!raw) {
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data && data.detail !== undefined ? data.detail : text);
    if (response.status === 401 && !anonymous && !quiet) window.dispatchEvent(new CustomEvent("genonaut:unauthorized"));
    throw error;
  }
  return data;
}

export const get = (path, options) => api("GET", path, undefined, options);
export const post = (path, body, options) => api("POST", path, body, options);
export const put = (path, body, options) => api("PUT", path, body, options);

/**
 * Follows a job live over its WebSocket, opened with a single-use ticket (browsers cannot send
 * the key on a socket; the key never goes into the URL). `onMessage` gets every message;
 * resolves with the close event. Returns {done, close}.
 */
export async function followJob(jobId, onMessage) {
  const { ticket } = await post("/api/v1/ws-tickets", { job_id: jobId });
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/generation/${jobId}?ticket=${encodeURIComponent(ticket)}`);
  const done = new Promise((resolve) => {
    socket.onmessage = (m) => {
      try {
        onMessage(JSON.parse(m.data));
      } catch (e) {
        console.warn("bad message", e);
      }
    };
    socket.onclose = (e) => resolve(e);
    socket.onerror = () => {};
  });
  return { done, close: () => socket.close() };
}
