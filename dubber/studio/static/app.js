// The studio page: three views (library, review, real-time) chosen by the address's fragment
// (#library, #review/NAME, #live/NAME, or #file=NAME to open a file wherever it stands).

import { connect, events, send } from "./api.js";
import { LibraryView } from "./library.js";
import { LiveView } from "./live.js";
import { ReviewView } from "./review.js";

class Studio {
  constructor() {
    this.metrics = {};
    this.highlight = null;
    this.library = new LibraryView(this);
    this.review = new ReviewView(this);
    this.live = new LiveView(this);
    this.shown = null; // the fragment on show
    window.addEventListener("hashchange", () => this.route());
    window.addEventListener("beforeunload", (event) => {
      if (this.review.unsaved) event.preventDefault(); // the browser asks before leaving
    });
    events.addEventListener("connected", () => this.library.refresh());
    this.dubbing = new Set(); // media being dubbed or queued
    this.liveRunning = false;
    this.stopButton = document.getElementById("header-stop");
    this.stopButton.addEventListener("click", () => this.stopAll());
    events.addEventListener("job", (event) => {
      const job = event.detail;
      if (["queued", "dubbing"].includes(job.state)) this.dubbing.add(job.media);
      else this.dubbing.delete(job.media);
      this.showStop();
    });
    events.addEventListener("live-state", (event) => {
      this.liveRunning = !["finished", "failed", "stopped"].includes(event.detail.state);
      this.showStop();
    });
  }

  /** The header's Stop, shown whenever a dub or the demo runs. */
  showStop() {
    const count = this.dubbing.size + (this.liveRunning ? 1 : 0);
    this.stopButton.hidden = count === 0;
  }

  /** Cancel every dub in progress and stop the real-time demo. */
  async stopAll() {
    if (this.liveRunning) this.live.stop();
    await Promise.all([...this.dubbing].map((media) =>
      send("/api/cancel", { media }).catch(() => this.dubbing.delete(media))));
    this.showStop();
  }

  /** Whether the page may leave the review it shows: no unsaved edits, or the editor agrees. */
  mayLeave(fragment) {
    const count = this.review.unsaved;
    if (!count || !this.shown || !this.shown.startsWith("review") || fragment === this.shown) {
      return true;
    }
    return window.confirm(`Leave ${this.review.name} with ${count} unsaved ` +
      `edit${count === 1 ? "" : "s"}? They would be lost.`);
  }

  go(fragment) {
    window.location.hash = fragment;
  }

  async route() {
    const fragment = decodeURIComponent(window.location.hash.slice(1));
    if (!this.mayLeave(fragment)) {
      window.history.replaceState(null, "", `#${this.shown}`); // stay, edits and all
      return;
    }
    const leaving = this.shown && this.shown.split("/")[0] === "live";
    if (leaving && !fragment.startsWith("live") && this.live.running) this.live.stop();
    this.shown = fragment;
    const [view, ...rest] = fragment.split("/");
    const name = rest.join("/");
    if (view.startsWith("file=")) return this.open(view.slice(5));
    const shown = ["library", "review", "live"].includes(view) ? view : "library";
    for (const section of document.querySelectorAll("main > .view")) {
      section.hidden = section.id !== `${shown}-view`;
    }
    document.querySelectorAll("header nav a").forEach((link) =>
      link.classList.toggle("on", link.dataset.view === shown));
    if (shown === "library") await this.library.refresh();
    if (shown === "review") await this.review.open(name || this.review.name);
    if (shown === "live") {
      await this.library.refresh();
      this.live.open(name, this.library.files);
    }
    document.body.dataset.view = shown;
  }

  /** The review of a dubbed file, else the library with the file marked. */
  async open(name) {
    await this.library.refresh();
    const file = this.library.files.find((f) => f.name === name);
    this.highlight = name;
    window.location.replace(`#${file && file.dubbed ? `review/${name}` : "library"}`);
  }
}

const studio = new Studio();
window.studio = studio; // for the browser tests and the curious
connect(document.getElementById("connection"), document.getElementById("offline"));
studio.route().then(() => {
  studio.metrics.ready = performance.now();
  document.body.dataset.ready = "true";
});
