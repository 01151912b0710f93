// The library view: the folder's media files, their state, the dub options, and dubs started
// from the page with their progress.

import { clock, el, events, getJSON, send, upload } from "./api.js";

const STATE_LABELS = {
  new: "not dubbed", queued: "queued", dubbing: "dubbing", dubbed: "dubbed",
  outdated: "outdated: document edited", failed: "failed", cancelled: "cancelled",
  unreadable: "cannot be dubbed", missing: "missing",
};

export class LibraryView {
  constructor(app) {
    this.app = app;
    this.files = [];
    this.form = document.getElementById("dub-form");
    this.body = document.querySelector("#library-table tbody");
    this.message = document.getElementById("library-message");
    this.voicesShown = false;
    events.addEventListener("job", (event) => this.onJob(event.detail));
    document.getElementById("upload").addEventListener("change", (event) => this.add(event));
  }

  async refresh() {
    try {
      const data = await getJSON("/api/library");
      this.files = data.files;
      this.live = data.live;
      this.app.dubbing = new Set(data.files.filter((file) =>
        ["queued", "dubbing"].includes(file.job?.state)).map((file) => file.name));
      this.app.liveRunning = data.live.running;
      this.app.showStop();
      this.showOptions(data);
      this.render();
    } catch (error) {
      this.say(`error: ${error.message}`, true);
    }
  }

  showOptions(data) {
    if (this.voicesShown) return;
    this.voicesShown = true;
    const select = this.form.elements.voice;
    select.replaceChildren(...data.voices.map((voice) =>
      el("option", { value: voice.id, title: voice.id || "dubber chooses" }, voice.label)));
    for (const option of data.options) {  // declared once, in dubber/chain/options.py
      const input = this.form.elements[option.name];
      input.title = option.help;
      if (input.type === "checkbox") input.checked = option.default;
      else input.value = option.default;
      if (option.min !== undefined) Object.assign(input, { min: option.min, max: option.max, step: option.step });
    }
  }

  settings() {
    const form = this.form.elements;
    return {
      voice: form.voice.value || null,
      match_voice_to_pitch: form.match_voice_to_pitch.checked,
      background: form.background.value,
      max_rate: Number(form.max_rate.value),
      max_stretch: Number(form.max_stretch.value),
      duck_db: Number(form.duck_db.value),
    };
  }

  render() {
    this.body.replaceChildren(...this.files.map((file) => this.row(file)));
    document.getElementById("library-empty").hidden = this.files.length > 0;
    if (this.app.highlight) this.mark(this.app.highlight);
  }

  row(file) {
    const job = file.job;
    const state = el("span", { className: `badge ${file.state}` }, STATE_LABELS[file.state]);
    const stateCell = el("td", { className: "state" }, state);
    if (file.state === "dubbing" || file.state === "queued") {
      const percent = Math.round(100 * (job ? job.fraction : 0));
      state.textContent = file.state === "queued" ? "queued" : `dubbing ${percent} %`;
      if (job && job.stage) stateCell.append(" ", el("span", { className: "sub" }, job.stage));
      const bar = el("div", { className: "progress" }, el("div"));
      bar.firstChild.style.width = `${percent}%`;
      stateCell.append(bar);
    }
    if (file.state === "failed" && job) {
      stateCell.append(el("div", { className: "error" }, `error: ${job.error}`));
    }
    if (file.problem) stateCell.append(el("div", { className: "error" }, file.problem));
    if (file.state === "missing" && job) {
      const how = ["queued", "dubbing"].includes(job.state) ? "is running" : job.state === "failed" ? `failed: ${job.error}` : job.state;
      stateCell.append(el("div", { className: "sub" }, `its dub ${how}`));
    }
    const busy = file.state === "dubbing" || file.state === "queued";
    const actions = el("td", { className: "actions" });
    if (busy) {
      actions.append(this.button("Cancel", () => this.cancel(file)));
    } else if (!file.problem && file.state === "outdated") {
      // an edited dub: "Dub again" speaks the edits; starting over keeps this dub as a version
      actions.append(this.button("Dub again", () => this.dub(file), "primary"));
      actions.append(this.button("From scratch…", () => this.dubFromScratch(file)));
    } else if (!file.problem) {
      actions.append(this.button(file.dubbed ? "Dub again" : "Dub", () => this.dub(file),
        file.dubbed ? "" : "primary"));
    }
    if (!busy && file.versions && file.versions.length) {
      actions.append(this.button("Restore…", () => this.restore(file)));
    }
    if (file.dubbed) actions.append(this.button("Review", () => this.app.go(`review/${file.name}`)));
    if (!file.problem) {
      actions.append(this.button("Real-time", () => this.app.go(`live/${file.name}`)));
    }
    const size = file.state === "missing" ? "–" : `${(file.size / 2 ** 20).toFixed(1)} MB`;
    const row = el("tr", {},
      el("td", {}, el("div", { className: "name" }, file.name), el("div", { className: "sub" }, size)),
      el("td", {}, clock(file.duration)),
      stateCell,
      actions);
    row.dataset.name = file.name;
    row.dataset.state = file.state;
    return row;
  }

  button(label, action, className = "") {
    const button = el("button", { type: "button", className }, label);
    button.addEventListener("click", action);
    return button;
  }

  mark(name) {
    for (const row of this.body.rows) row.classList.toggle("highlight", row.dataset.name === name);
  }

  async dub(file, extra = {}) {
    try {
      await send("/api/dub", { media: file.name, ...this.settings(), ...extra });
      this.say(`dubbing ${file.name}…`);
    } catch (error) {
      this.say(`error: ${error.message}`, true);
    }
    this.refresh();
  }

  async dubFromScratch(file) {
    const question = `Dub ${file.name} again from scratch? Recognition and translation run ` +
      "again; the edited dub is kept as a version you can restore.";
    if (!window.confirm(question)) return;
    await this.dub(file, { from_scratch: true });
  }

  async restore(file) {
    const version = file.versions[file.versions.length - 1];
    if (!window.confirm(`Restore the dub of ${file.name} kept at ${version}? ` +
      "The current dub is kept as a version in turn.")) return;
    try {
      await send("/api/restore", { media: file.name, version });
      this.say(`restored the dub of ${file.name} kept at ${version}`);
    } catch (error) {
      this.say(`error: ${error.message}`, true);
    }
    this.refresh();
  }

  async cancel(file) {
    try {
      await send("/api/cancel", { media: file.name });
    } catch (error) {
      this.say(`error: ${error.message}`, true);
    }
  }

  async add(event) {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    this.say(`uploading ${file.name}…`);
    try {
      await upload(file);
      this.say(`added ${file.name}`);
    } catch (error) {
      this.say(`error: ${error.message}`, true);
    }
    this.refresh();
  }

  onJob(job) {
    const file = this.files.find((f) => f.name === job.media);
    if (!file) return this.refresh();
    const ended = ["dubbed", "failed", "cancelled"].includes(job.state);
    if (ended) {
      if (job.state === "dubbed") this.say(`${job.media} dubbed in ${job.seconds} s`);
      if (job.state === "cancelled") this.say(`dub of ${job.media} cancelled: the file is as it was`);
      if (job.state === "failed") this.say(`dub of ${job.media} failed: ${job.error}`, true);
      return this.refresh();
    }
    file.job = job;
    if (file.state !== "missing") file.state = job.state;
    const old = this.body.querySelector(`tr[data-name="${CSS.escape(job.media)}"]`);
    if (old) old.replaceWith(this.row(file));
  }

  say(text, isError = false) {
    this.message.textContent = text;
    this.message.classList.toggle("error", isError);
  }
}
