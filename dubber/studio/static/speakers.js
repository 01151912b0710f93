// The review's speakers panel: each speaker's name, voice (with a sample to hear), lines and
// time. A rename or another voice waits, with the line edits, for Save or Re-dub; a merge or a
// split is saved at once (with whatever else waits).

import { el, getBlob, getJSON } from "./api.js";

export class SpeakersPanel {
  constructor(review) {
    this.review = review;
    this.box = document.getElementById("speakers");
    this.body = document.querySelector("#speakers-table tbody");
    this.edits = new Map(); // speaker label -> {name, voice} as edited
    this.speakers = [];
    this.voices = []; // {id, label}: the voices a speaker can take
    this.sample = new Audio();
    document.getElementById("split").addEventListener("click", () => this.split());
  }

  /** Show the dub's speakers (none: no panel), then the voices they can take. */
  async show(data, media) {
    this.edits.clear();
    this.speakers = data.speakers;
    this.box.hidden = !this.speakers.length;
    this.body.replaceChildren(...this.speakers.map((speaker) => this.row(speaker)));
    if (!this.speakers.length) return;
    try {
      this.voices = (await getJSON(`/api/voices/${encodeURIComponent(media)}`)).voices;
    } catch (error) {
      this.review.say(`error: ${error.message}`, true);
      return;
    }
    this.body.querySelectorAll("select.voice").forEach((select) => this.fill(select));
  }

  nameOf(label) {
    const edited = this.edits.get(label)?.name;
    return edited || this.speakers.find((speaker) => speaker.speaker === label)?.name || label;
  }

  row(speaker) {
    const name = el("input", { value: speaker.name, maxLength: 60, className: "name", spellcheck: false });
    name.setAttribute("aria-label", `name of ${speaker.speaker}`);
    name.addEventListener("input", () => this.edit(speaker, { name: name.value.trim() }));
    const voice = el("select", { className: "voice" }, el("option", { value: speaker.voice }, speaker.voice));
    voice.dataset.saved = speaker.voice;
    voice.addEventListener("change", () => this.edit(speaker, { voice: voice.value }));
    const hear = el("button", { type: "button", className: "hear", title: "hear a short sentence in this voice" }, "▶ hear");
    hear.addEventListener("click", () => this.hear(voice.value));
    const others = this.speakers.filter((other) => other !== speaker);
    const into = el("select", { className: "into", title: `give all of ${speaker.name}'s lines to another speaker` },
      el("option", { value: "" }, "merge into…"),
      ...others.map((other) => el("option", { value: other.speaker }, other.name)));
    into.addEventListener("change", () => this.merge(speaker, into));
    const row = el("tr", {},
      el("td", { className: "label" }, speaker.speaker),
      el("td", {}, name),
      el("td", { className: "voice-cell" }, voice, hear),
      el("td", { className: "count" }, String(speaker.lines)),
      el("td", { className: "count" }, `${speaker.seconds.toFixed(1)} s`),
      el("td", {}, others.length ? into : ""));
    row.dataset.speaker = speaker.speaker;
    return row;
  }

  /** The voices a speaker can take, readably, in `select` (its choice kept). */
  fill(select) {
    const chosen = select.value;
    const voices = this.voices.some((voice) => voice.id === select.dataset.saved)
      ? this.voices : [{ id: select.dataset.saved, label: select.dataset.saved }, ...this.voices];
    select.replaceChildren(...voices.map(({ id, label }) => el("option", { value: id, title: id }, label)));
    select.value = chosen;
  }

  edit(speaker, change) {
    const edit = { ...(this.edits.get(speaker.speaker) || {}), ...change };
    if (edit.name === speaker.name) delete edit.name;
    if (edit.voice === speaker.voice) delete edit.voice;
    if (Object.keys(edit).length) this.edits.set(speaker.speaker, edit);
    else this.edits.delete(speaker.speaker);
    this.body.querySelector(`tr[data-speaker="${speaker.speaker}"]`)
      .classList.toggle("changed", this.edits.has(speaker.speaker));
    this.review.showSpeaker(speaker.speaker, this.nameOf(speaker.speaker));
    this.review.updateBar();
  }

  editList() {
    return [...this.edits].map(([speaker, edit]) => ({ speaker, ...edit }));
  }

  /** The lines a waiting voice change gives another voice. */
  lines() {
    return this.review.data.lines.filter((line) => this.edits.get(line.speaker)?.voice)
      .map((line) => line.line);
  }

  async hear(voice) {
    const url = `/api/voice-sample/${encodeURIComponent(voice)}/${encodeURIComponent(this.review.name)}`;
    try {
      URL.revokeObjectURL(this.sample.src);
      this.sample.src = URL.createObjectURL(await getBlob(url));
      await this.sample.play();
    } catch (error) {
      this.review.say(`error: ${error.message}`, true);
    }
  }

  merge(speaker, into) {
    const other = this.speakers.find((s) => s.speaker === into.value);
    if (other && window.confirm(`Give all of ${speaker.name}'s lines to ${other.name}?`)) {
      this.review.save([{ speaker: speaker.speaker, into: other.speaker }]);
    } else into.value = "";
  }

  /** Split the chosen line (or, by default, the line the editor is on) off to a new speaker. */
  split() {
    const given = document.getElementById("split-line").value;
    const line = given ? Number(given) - 1 : this.review.current();
    const run = document.getElementById("split-run").checked;
    this.review.save([{ split: line, run }]);
  }
}
