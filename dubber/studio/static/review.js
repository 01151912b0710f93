// The review view: the dubbed video with original/dub audio and English/Spanish subtitles, the
// table of lines following the playback (each with its speaker), and post-editing of lines and
// speakers with a re-dub of the changed lines.

import { clock, el, events, fileURL, getJSON, send } from "./api.js";
import { SpeakersPanel } from "./speakers.js";

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
    this.cast = new SpeakersPanel(this);
    document.querySelectorAll("#audio-switch button").forEach((button) =>
      button.addEventListener("click", () => this.setAudio(button.dataset.audio)));
    document.querySelectorAll("#subtitle-switch button").forEach((button) =>
      button.addEventListener("click", () => this.setSubtitles(button.dataset.subtitles)));
    document.getElementById("worst-first").addEventListener("change", () => this.order());
    document.getElementById("next-flagged").addEventListener("click", () => this.nextFlagged());
    document.addEventListener("keydown", (event) => this.key(event));
    this.hearing = new Audio(); // one line's English then Spanish, apart from the player
    this.hearing.preload = "auto";
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
    this.showDownloads();
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
      const track = el("track", {
        kind: "subtitles", srclang: language, label, src: fileURL(file, version),
      });
      track.addEventListener("load", () => this.placeCues());
      player.append(track);
    }
    this.source(at, play);
  }

  source(at, play) {
    const player = this.player;
    const file = this.audio === "dub" ? this.data.dub : this.data.original;
    this.pendingAt = null; // a seek asked for while it loads wins over `at`
    player.addEventListener("loadedmetadata", () => {
      player.currentTime = this.pendingAt ?? at;
      this.pendingAt = null;
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
      track.mode = track.language === which || which === "both" ? "showing" : "disabled";
    }
    this.placeCues();
    document.querySelectorAll("#subtitle-switch button").forEach((button) =>
      button.classList.toggle("on", button.dataset.subtitles === which));
  }

  /** With both languages shown, English at the top and Spanish at the bottom. */
  placeCues() {
    for (const track of this.player.textTracks) {
      for (const cue of track.cues || []) {
        cue.line = this.subtitles === "both" && track.language === "en" ? 0 : "auto";
      }
    }
  }

  /** Links that save each output of the dub, and all of them as one zip. */
  showDownloads() {
    const bar = document.getElementById("downloads");
    const links = this.data.downloads.map(({ label, file }) =>
      el("a", { className: "button", href: fileURL(file), download: file.split("/").pop() }, label));
    const zip = el("a", {
      className: "button", href: `/api/export/${encodeURIComponent(this.name)}`, download: "",
      title: "the dubbed media, the subtitles and the dub document in one zip",
    }, "all (zip)");
    bar.replaceChildren("Download", ...links, zip);
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
    const at = this.slot(line)[0];
    if (this.player.readyState === 0) this.pendingAt = at; // taken up once the media is loaded
    this.player.currentTime = at;
    this.track();
  }

  // -- the table ----------------------------------------------------------------------------

  render() {
    this.rows.clear();
    this.active = null;
    this.cast.show(this.data, this.name);
    document.getElementById("lines-table").classList.toggle("cast", this.data.speakers.length > 0);
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
    const legend = [["⚑", "a flagged line: hover its flags for what was found"],
      ...Object.entries(this.data.fit_legend), ...Object.entries(this.data.legend)];
    document.getElementById("legend-list").replaceChildren(...legend.flatMap(([word, meaning]) =>
      [el("dt", {}, word), el("dd", {}, meaning)]));
  }

  /** The review's keys: Space/K play-pause, J/L 5 s back/on, ↑/↓ the line before/after,
   * Enter edit the line, Esc back to its row, N the next flagged line, P hear the line. */
  key(event) {
    if (document.body.dataset.view !== "review" || !this.data) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest?.("textarea, input, select");
    if (typing) {
      if (event.key === "Escape") {
        event.preventDefault();
        event.target.closest("tr")?.focus();
      }
      return;
    }
    if (event.target.closest?.("button, a") && [" ", "Enter"].includes(event.key)) return;
    const actions = {
      " ": () => this.playPause(),
      k: () => this.playPause(),
      j: () => this.nudge(-5),
      l: () => this.nudge(5),
      ArrowDown: () => this.step(1),
      ArrowUp: () => this.step(-1),
      Enter: () => this.rows.get(this.current())?.querySelector("textarea").focus(),
      n: () => this.nextFlagged(),
      p: () => this.hear(this.data.lines[this.current()]),
    };
    const action = actions[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action) return;
    event.preventDefault();
    action();
  }

  playPause() {
    if (this.player.paused) this.player.play().catch((error) => this.say(`cannot play: ${error.message}`, true));
    else this.player.pause();
  }

  nudge(seconds) {
    this.player.currentTime = Math.max(0, this.player.currentTime + seconds);
  }

  /** The line the editor is on: the focused row's, else the one playing, else the first. */
  current() {
    return this.focused ?? this.active ?? this.data.lines[0]?.line;
  }

  /** Focus the row `by` rows after the current one (in the table's order) and seek to it. */
  step(by) {
    const rows = [...this.body.children];
    const at = rows.indexOf(this.rows.get(this.current()));
    const row = rows[Math.min(Math.max(at + by, 0), rows.length - 1)];
    if (!row) return;
    row.focus();
    this.seek(this.data.lines[Number(row.dataset.line)]);
  }

  /** Play one line's English (the original over its slot), then its Spanish (the dub over
   * the slot it was placed in); the player pauses meanwhile. */
  async hear(line) {
    if (!line) return;
    this.player.pause();
    const spans = [[this.data.original, line.start, line.end]];
    if (line.placed_start != null) spans.push([this.data.dub, line.placed_start, line.placed_end]);
    const token = (this.hearingToken = (this.hearingToken || 0) + 1);
    for (const [file, start, end] of spans) {
      if (token !== this.hearingToken) return; // another line asked for meanwhile
      await this.playSpan(fileURL(file, this.data.version), start, end);
    }
  }

  playSpan(url, start, end) {
    const audio = this.hearing;
    this.spanDone?.(); // a span still playing ends here
    return new Promise((resolve) => {
      const done = () => {
        audio.pause();
        audio.removeEventListener("timeupdate", check);
        audio.removeEventListener("loadedmetadata", begin);
        this.spanDone = null;
        resolve();
      };
      this.spanDone = done;
      const check = () => { if (audio.currentTime >= end || audio.ended) done(); };
      const begin = () => {
        audio.currentTime = start;
        audio.addEventListener("timeupdate", check);
        audio.play().catch((error) => { this.say(`cannot play: ${error.message}`, true); done(); });
      };
      if (audio.src.endsWith(url) && audio.readyState > 0) begin();
      else {
        audio.addEventListener("loadedmetadata", begin, { once: true });
        audio.src = url;
      }
    });
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
    for (const id of new Set([...this.data.voices, line.voice].filter(Boolean))) {
      voice.append(el("option", { value: id, title: id }, this.data.voice_labels[id] || id));
    }
    voice.value = line.voice;
    if (line.speaker) { // a speaker's lines take the speaker's voice
      voice.disabled = true;
      voice.title = `the voice of ${line.speaker}: change it under Speakers`;
    }
    const who = el("span", { className: "speaker-tag", title: line.speaker || "" },
      line.speaker ? this.cast.nameOf(line.speaker) : "");
    who.dataset.speaker = line.speaker || "";
    voice.addEventListener("change", () => this.edit(line, { voice: voice.value }));
    const [start, end] = line.placed_start != null ? [line.placed_start, line.placed_end] : [line.start, line.end];
    const undo = el("button", { type: "button", className: "undo", title: "back to the saved text and voice" }, "↶ undo");
    undo.addEventListener("click", () => {
      text.value = line.translation;
      voice.value = line.voice;
      this.edit(line, { translation: line.translation, voice: line.voice });
    });
    const tools = el("div", { className: "line-tools" },
      el("button", { type: "button", className: "hear", title: "hear this line: the English, then the Spanish (P)" }, "▶ EN → ES"),
      undo);
    tools.firstChild.addEventListener("click", () => this.hear(line));
    if (line.machine != null) {
      const machine = el("button", { type: "button", className: "machine", title: `the translator's text: ${line.machine}` }, "machine text");
      machine.addEventListener("click", () => {
        text.value = line.machine;
        this.edit(line, { translation: line.machine });
      });
      tools.append(machine);
    }
    const row = el("tr", { tabIndex: 0 },
      el("td", { className: "num" }, String(line.line + 1)),
      el("td", { className: "slot", title: `original ${clock(line.start)}–${clock(line.end)}` },
        `${clock(start)}–${clock(end)}`),
      el("td", { className: "who" }, who),
      el("td", { className: "source" }, line.source),
      el("td", { className: "translation" }, text, tools),
      candidates,
      el("td", {}, voice),
      el("td", { className: `fit ${line.fit}`, title: this.data.fit_legend[line.fit] || "" }, line.fit),
      el("td", { className: `speedup${"fast" in line.flags ? " high" : ""}` }, `×${line.speedup.toFixed(2)}`),
      this.flagCell(line));
    row.dataset.line = line.line;
    for (const kind of Object.keys(line.flags)) row.classList.add(`flag-${kind}`);
    row.addEventListener("click", (event) => {
      if (!event.target.closest("textarea, select, button")) this.seek(line);
    });
    row.addEventListener("focus", () => { this.focused = line.line; });
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

  /** The edits of lines and speakers not saved yet. */
  get unsaved() {
    return this.edits.size + this.cast.edits.size;
  }

  /** Each line of `label` tagged with the speaker's `name`. */
  showSpeaker(label, name) {
    this.body.querySelectorAll(`.speaker-tag[data-speaker="${label}"]`)
      .forEach((tag) => { tag.textContent = name; });
  }

  updateBar() {
    const count = this.unsaved;
    const busy = this.redubbing !== null;
    const changes = [[this.edits.size, "line"], [this.cast.edits.size, "speaker"]]
      .filter(([n]) => n).map(([n, what]) => `${n} ${what}${n > 1 ? "s" : ""}`);
    document.getElementById("edit-count").textContent =
      count ? `${changes.join(", ")} changed.` : "No changes.";
    document.getElementById("save-edits").disabled = busy || !count;
    const outdated = this.data && this.data.state === "outdated";
    document.getElementById("redub").disabled = busy || !(count || this.unspoken.size || outdated);
  }

  // -- saving and re-dubbing ----------------------------------------------------------------

  /** Save the edits waiting, and `more` speaker edits (a merge or a split), to the document. */
  async save(more = []) {
    try {
      const answer = await send("/api/edits", {
        media: this.name, edits: this.editList(), speakers: [...this.cast.editList(), ...more],
      });
      answer.changed.forEach((line) => this.unspoken.add(line));
      await this.open(this.name);
      this.say(`saved ${answer.changed.length} line(s) to the dub document: re-dub to hear them`);
    } catch (error) {
      this.say(`error: ${error.message}`, true);
    }
  }

  async redub() {
    const lines = [...this.edits.keys(), ...this.unspoken, ...this.cast.lines()];
    this.redubbing = { started: performance.now(), lines };
    this.updateBar();
    this.say("re-dubbing the changed lines…");
    this.progress.hidden = false;
    this.progress.firstChild.style.width = "0%";
    try {
      await send("/api/redub", {
        media: this.name, edits: this.editList(), speakers: this.cast.editList(),
      });
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
        remixed: job.remixed,
      };
      this.say(`re-dubbed: ${job.synthesized} clip(s) spoken again, ${job.reused} from the cache,` +
        ` ${job.remixed} s of the track mixed again;` +
        ` the new audio played ${seconds.toFixed(1)} s after “Re-dub”`);
    }, { once: true });
    this.load(this.data.version, this.slot(first)[0], true);
  }

  say(text, isError = false) {
    this.message.textContent = text;
    this.message.classList.toggle("error", isError);
  }
}
