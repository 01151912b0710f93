// The review view: the dubbed video with original/dub audio and English/Spanish subtitles, the
// table of lines following the playback, and post-editing with a re-dub of the changed lines.

import { clock, el, events, fileURL, getJSON, send } from "./api.js";

export class ReviewView {
  constructor(app) {
    this.app = app;
    this.player = document.getElementById("player");
    this.body = document.querySelector("#lines-table tbody");
    this.scroller = document.getElementById("lines-scroll");
    this.message = document.getElementById("review-message");
    this.progress = document.getElementById("redub-progress");
    this.audio = "dub";
    this.subtitles = "es";
    this.edits = new Map(); // line -> {translation, voice} as edited
    this.unspoken = new Set(); // lines saved to the document but not re-dubbed yet
    this.rows = new Map(); // line -> <tr>
    this.active = null;
    this.redubbing = null; // {started, lines} while a re-dub runs
    document.querySelectorAll("#audio-switch button").forEach((button) =>
      button.addEventListener("click", () => this.setAudio(button.dataset.audio)));
    document.querySelectorAll("#subtitle-switch button").forEach((button) =>
      button.addEventListener("click", () => this.setSubtitles(button.dataset.subtitles)));
    document.getElementById("worst-first").addEventListener("change", () => this.order());
    document.getElementById("next-flagged").addEventListener("click", () => this.nextFlagged());
    document.addEventListener("keydown", (event) => {
      const typing = event.target.closest?.("textarea, input, select");
      if (event.key === "n" && !typing && document.body.dataset.view === "review") this.nextFlagged();
    });
    document.getElementById("save-edits").addEventListener("click", () => this.save());
    document.getElementById("redub").addEventListener("click", () => this.redub());
    this.player.addEventListener("play", () => this.follow());
    this.player.addEventListener("seeked", () => this.track());
    this.player.addEventListener("timeupdate", () => this.track());
    events.addEventListener("job", (event) => this.onJob(event.detail));
  }

  async open(name) {
    document.getElementById("review-none").hidden = !!name;
    document.getElementById("review-body").hidden = !name;
    if (!name) return;
    try {
      this.data = await getJSON(`/api/review/${encodeURIComponent(name)}`);
    } catch (error) {
      document.getElementById("review-body").hidden = true;
      document.getElementById("review-none").hidden = false;
      document.getElementById("review-none").textContent = `error: ${error.message}`;
      return;
    }
    if (name !== this.name) this.unspoken.clear();
    this.name = name;
    this.edits.clear();
    document.getElementById("review-title").textContent = name;
    this.load(this.data.version);
    this.render();
    const outdated = this.data.state === "outdated";
    this.say(outdated ? "The document was edited after this dub: re-dub to hear the edits." : "");
    this.updateBar();
  }

  // -- the player ---------------------------------------------------------------------------

  load(version, at = 0, play = false) {
    const player = this.player;
    player.querySelectorAll("track").forEach((track) => track.remove());
    for (const [language, label] of [["en", "English"], ["es", "Spanish"]]) {
      const file = this.data.subtitles[language];
      if (!file) continue;
      player.append(el("track", {
        kind: "subtitles", srclang: language, label, src: fileURL(file, version),
      }));
    }
    this.source(at, play);
  }

  source(at, play) {
    const player = this.player;
    const file = this.audio === "dub" ? this.data.dub : this.data.original;
    player.addEventListener("loadedmetadata", () => {
      player.currentTime = at;
      this.setSubtitles(this.subtitles);
      if (play) player.play().catch((error) => this.say(`cannot play: ${error.message}`, true));
    }, { once: true });
    player.src = fileURL(file, this.data.version);
    player.load();
  }

  setAudio(which) {
    if (which === this.audio || !this.data) return;
    this.audio = which;
    document.querySelectorAll("#audio-switch button").forEach((button) =>
      button.classList.toggle("on", button.dataset.audio === which));
    this.source(this.player.currentTime, !this.player.paused);
    this.track();
  }

  setSubtitles(which) {
    this.subtitles = which;
    for (const track of this.player.textTracks) {
      track.mode = track.language === which ? "showing" : "disabled";
    }
    document.querySelectorAll("#subtitle-switch button").forEach((button) =>
      button.classList.toggle("on", button.dataset.subtitles === which));
  }

  /** The slot of a line in the audio being played: where the dub placed it, or the original. */
  slot(line) {
    if (this.audio === "dub" && line.placed_start != null) return [line.placed_start, line.placed_end];
    return [line.start, line.end];
  }

  follow() {
    const step = () => {
      this.track();
      if (!this.player.paused) requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  /** Highlight the line being spoken (or the last one spoken) and keep it in view. */
  track() {
    if (!this.data) return;
    const now = this.player.currentTime;
    let current = null;
    for (const line of this.data.lines) {
      if (this.slot(line)[0] <= now + 0.01) current = line.line;
    }
    if (current === this.active) return;
    this.rows.get(this.active)?.classList.remove("active");
    this.active = current;
    const row = this.rows.get(current);
    if (!row) return;
    row.classList.add("active");
    const top = row.offsetTop - this.scroller.clientHeight / 3;
    this.scroller.scrollTo({ top: Math.max(top, 0), behavior: "smooth" });
  }

  seek(line) {
    this.player.currentTime = this.slot(line)[0];
    this.track();
  }

  // -- the table ----------------------------------------------------------------------------

  render() {
    this.rows.clear();
    this.active = null;
    for (const line of this.data.lines) this.rows.set(line.line, this.row(line));
    this.order();
    const lines = this.data.lines;
    const counts = Object.keys(this.data.legend).map((kind) =>
      `${lines.filter((line) => kind in line.flags).length} ${kind}`);
    const flagged = lines.filter((line) => Object.keys(line.flags).length).length;
    document.getElementById("line-summary").textContent =
      `${lines.length} lines · ${flagged} flagged (${counts.join(", ")})`;
    document.getElementById("review-models").textContent =
      `recognised by ${this.data.asr_model || "–"} · translated by ${this.data.translator || "–"}` +
      ` · spoken by ${this.data.voice || "–"}`;
    document.getElementById("next-flagged").disabled = !flagged;
  }

  /** Seek to the next flagged line after the one being played (N). */
  nextFlagged() {
    const lines = this.data.lines.filter((line) => Object.keys(line.flags).length);
    if (!lines.length) return;
    const after = lines.find((line) => line.line > (this.active ?? -1)) || lines[0];
    this.seek(after);
    this.rows.get(after.line).scrollIntoView({ block: "center" });
  }

  order() {
    const worstFirst = document.getElementById("worst-first").checked;
    const lines = [...this.data.lines];
    if (worstFirst) lines.sort((a, b) => b.severity - a.severity || a.line - b.line);
    this.body.replaceChildren(...lines.map((line) => this.rows.get(line.line)));
  }

  row(line) {
    const text = el("textarea", { rows: 3, value: line.translation, spellcheck: false });
    text.setAttribute("lang", "es");
    text.addEventListener("input", () => this.edit(line, { translation: text.value }));
    const candidates = el("td", { className: "candidates" });
    for (const candidate of line.candidates) {
      const button = el("button", { type: "button", title: "use this translation" }, candidate);
      button.addEventListener("click", () => {
        text.value = candidate;
        this.edit(line, { translation: candidate });
      });
      candidates.append(button);
    }
    if (!line.candidates.length) candidates.append(el("span", { className: "hint" }, "–"));
    const voice = el("select", {});
    for (const id of this.data.voices) {
      voice.append(el("option", { value: id, title: id }, id.split(":")[1] || id));
    }
    voice.value = line.voice;
    voice.addEventListener("change", () => this.edit(line, { voice: voice.value }));
    const [start, end] = line.placed_start != null ? [line.placed_start, line.placed_end] : [line.start, line.end];
    const row = el("tr", {},
      el("td", { className: "num" }, String(line.line + 1)),
      el("td", { className: "slot", title: `original ${clock(line.start)}–${clock(line.end)}` },
        `${clock(start)}–${clock(end)}`),
      el("td", { className: "source" }, line.source),
      el("td", { className: "translation" }, text),
      candidates,
      el("td", {}, voice),
      el("td", { className: `fit ${line.fit}` }, line.fit),
      el("td", { className: `speedup${"fast" in line.flags ? " high" : ""}` }, `×${line.speedup.toFixed(2)}`),
      this.flagCell(line));
    row.dataset.line = line.line;
    for (const kind of Object.keys(line.flags)) row.classList.add(`flag-${kind}`);
    row.addEventListener("click", (event) => {
      if (!event.target.closest("textarea, select, button")) this.seek(line);
    });
    return row;
  }

  flagCell(line) {
    const cell = el("td", { className: "flags" });
    for (const [kind, about] of Object.entries(line.flags)) {
      cell.append(el("span", { className: `badge flag ${kind}`, title: `${this.data.legend[kind]}: ${about}` }, kind));
    }
    return cell;
  }

  edit(line, change) {
    const edit = { ...(this.edits.get(line.line) || {}), ...change };
    const normal = (text) => text.split(/\s+/).filter(Boolean).join(" ");
    if (edit.translation !== undefined && normal(edit.translation) === line.translation) {
      delete edit.translation;
    }
    if (edit.voice !== undefined && edit.voice === line.voice) delete edit.voice;
    if (Object.keys(edit).length) this.edits.set(line.line, edit);
    else this.edits.delete(line.line);
    this.rows.get(line.line).classList.toggle("changed", this.edits.has(line.line));
    this.updateBar();
  }

  editList() {
    return [...this.edits].map(([line, edit]) => ({ line, ...edit }));
  }

  updateBar() {
    const count = this.edits.size;
    const busy = this.redubbing !== null;
    document.getElementById("edit-count").textContent =
      count ? `${count} line${count > 1 ? "s" : ""} changed.` : "No changes.";
    document.getElementById("save-edits").disabled = busy || !count;
    const outdated = this.data && this.data.state === "outdated";
    document.getElementById("redub").disabled = busy || !(count || this.unspoken.size || outdated);
  }

  // -- saving and re-dubbing ----------------------------------------------------------------

  async save() {
    try {
      const answer = await send("/api/edits", { media: this.name, edits: this.editList() });
      answer.changed.forEach((line) => this.unspoken.add(line));
      await this.open(this.name);
      this.say(`saved ${answer.changed.length} line(s) to the dub document: re-dub to hear them`);
    } catch (error) {
      this.say(`error: ${error.message}`, true);
    }
  }

  async redub() {
    const lines = [...this.edits.keys(), ...this.unspoken];
    this.redubbing = { started: performance.now(), lines };
    this.updateBar();
    this.say("re-dubbing the changed lines…");
    this.progress.hidden = false;
    this.progress.firstChild.style.width = "0%";
    try {
      await send("/api/redub", { media: this.name, edits: this.editList() });
    } catch (error) {
      this.redubbing = null;
      this.progress.hidden = true;
      this.updateBar();
      this.say(`error: ${error.message}`, true);
    }
  }

  async onJob(job) {
    if (!this.redubbing || job.media !== this.name) return;
    this.progress.firstChild.style.width = `${Math.round(100 * job.fraction)}%`;
    if (job.state === "failed" || job.state === "cancelled") {
      this.redubbing = null;
      this.progress.hidden = true;
      this.updateBar();
      this.say(job.state === "failed" ? `error: ${job.error}` : "re-dub cancelled", job.state === "failed");
      return;
    }
    if (job.state !== "dubbed") return;
    const { started, lines } = this.redubbing;
    this.data = await getJSON(`/api/review/${encodeURIComponent(this.name)}`);
    this.edits.clear();
    this.unspoken.clear();
    this.redubbing = null;
    this.progress.hidden = true;
    this.render();
    this.updateBar();
    const first = this.data.lines[lines.length ? Math.min(...lines) : 0];
    this.player.addEventListener("playing", () => {
      const seconds = (performance.now() - started) / 1000;
      this.app.metrics.redub = {
        seconds, synthesized: job.synthesized, reused: job.reused, stages: job.stages,
      };
      this.say(`re-dubbed: ${job.synthesized} clip(s) spoken again, ${job.reused} from the cache;` +
        ` the new audio played ${seconds.toFixed(1)} s after “Re-dub”`);
    }, { once: true });
    this.load(this.data.version, this.slot(first)[0], true);
  }

  say(text, isError = false) {
    this.message.textContent = text;
    this.message.classList.toggle("error", isError);
  }
}
