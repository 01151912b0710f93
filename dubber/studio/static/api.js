// Talking to the studio server: JSON requests carrying the session token, the folder's files,
// and the server-sent event stream re-dispatched as DOM events.

const token = document.querySelector('meta[name="dubber-token"]').content;

/** GET a JSON answer; a refusal throws an Error with the server's one-line message. */
export async function getJSON(url) {
  return answer(await fetch(url, { cache: "no-store" }));
}

/** GET a file's bytes as a Blob (a voice sample); a refusal throws as getJSON's does. */
export async function getBlob(url) {
  const response = await fetch(url, { cache: "no-store" });
  return response.ok ? response.blob() : answer(response);
}

/** POST (or another method) a JSON body with the session token. */
export async function send(url, body = {}, method = "POST") {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", "X-Dubber-Token": token },
    body: JSON.stringify(body),
  });
  return answer(response);
}

/** PUT a file's bytes as they are (an upload into the folder). */
export async function upload(file) {
  const response = await fetch(`/api/upload/${encodeURIComponent(file.name)}`, {
    method: "PUT",
    headers: { "X-Dubber-Token": token, "Content-Type": "application/octet-stream" },
    body: file,
  });
  return answer(response);
}

async function answer(response) {
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

/** The URL of a file of the folder; `version` makes the browser fetch a replaced file anew. */
export function fileURL(name, version) {
  const path = name.split("/").map(encodeURIComponent).join("/");
  return `/files/${path}${version ? `?v=${version}` : ""}`;
}

/** Server events ("job", "live-state", ...) as DOM events on this target. */
export const events = new EventTarget();
const KINDS = ["job", "live-state", "live-partial", "live-source", "live-translation",
  "live-audio", "live-latency"];

/** Listen to the server; `connected` fires on every (re)connection, so views reload. While
 * the server does not answer, the page is greyed out under a banner that says so (what it shows
 * may be stale, and nothing it offers can run). */
export function connect(status, banner) {
  const source = new EventSource("/api/events");
  source.onopen = () => {
    status.textContent = "connected";
    status.className = "connection ok";
    banner.hidden = true;
    delete document.body.dataset.offline;
    events.dispatchEvent(new Event("connected"));
  };
  source.onerror = () => {
    const closed = source.readyState === EventSource.CLOSED; // refused: not this session's server
    status.textContent = closed ? "disconnected" : "reconnecting…";
    status.className = "connection lost";
    banner.textContent = closed
      ? "This page's studio session has ended: open the address `dubber studio` printed."
      : "The studio server is not answering (was it stopped?). What this page shows may be out " +
        "of date and nothing can run; it reconnects by itself when the server is back.";
    banner.hidden = false;
    document.body.dataset.offline = "true";
  };
  for (const kind of KINDS) {
    source.addEventListener(kind, (event) => {
      events.dispatchEvent(new CustomEvent(kind, { detail: JSON.parse(event.data) }));
    });
  }
}

/** 83.25 -> "1:23.2" */
export function clock(seconds) {
  if (seconds == null || Number.isNaN(seconds)) return "–";
  const minutes = Math.floor(seconds / 60);
  const rest = (seconds - 60 * minutes).toFixed(1).padStart(4, "0");
  return `${minutes}:${rest}`;
}

/** A shorthand for building elements: el("td", {className: "x"}, "text", child). */
export function el(tag, properties = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  for (const child of children) {
    if (child != null) node.append(child);
  }
  return node;
}
