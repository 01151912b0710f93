// The real-time demo: the page plays a media file while dubber's live pipeline hears it on the
// server; its captions and Spanish speech arrive as events and the speech is scheduled against
// the video's clock.

import { clock, el, events, fileURL, send } from "./api.js";

export class LiveView {
  constructor(app) {
    this.app = app;
    this.player = document.getElementById("live-player");
    this.select = document.getElementById("live-media");
    this.list = document.getElementById("live-lines");
    this.status = document.getElementById("live-status");
    this.playButton = document.getElementById("live-play");
    this.stopButton = document.getElementById("live-stop");
    this.original = document.getElementById("live-original");
    this.lines = new Map(); // line index -> {item, en, es, latency}
    this.latencies = [];
    this.received = []; // every piece of speech: {start, seconds, videoTime, playing}
    this.sources = new Set(); // speech scheduled or playing, silenced at once by Stop
    this.stopped = false;
    this.context = null;
    this.playButton.addEventListener("click", () => this.play());
    this.stopButton.addEventListener("click", () => this.stop());
    this.original.addEventListener("input", () => { this.player.volume = Number(this.original.value); });
    this.select.addEventListener("change", () => this.preview());
    events.addEventListener("live-state", (event) => this.onState(event.detail));
    events.addEventListener("live-partial", (event) => {
      document.getElementById("live-partial").textContent = event.detail.text;
    });
    events.addEventListener("live-source", (event) => this.onSource(event.detail));
    events.addEventListener("live-translation", (event) => this.onTranslation(event.detail));
    events.addEventListener("live-audio", (event) => this.onAudio(event.detail));
    events.addEventListener("live-latency", (event) => this.onLatency(event.detail));
  }

  open(name, files) {
    const current = name || this.select.value;
    this.select.replaceChildren(...files.filter((file) => !file.problem)
      .map((file) => el("option", { value: file.name }, file.name)));
    if (current) this.select.value = current;
    this.preview();
  }

  /** The chosen file's first picture, until it plays. */
  preview() {
    if (!this.select.value || this.playButton.disabled) return;
    this.player.src = fileURL(this.select.value);
  }

  async play() {
    // The audio context starts inside the click, so the browser lets it make sound.
    this.context = this.context || new AudioContext();
    await this.context.resume();
    this.reset();
    this.stopped = false;
    this.media = this.select.value;
    this.say("starting the live pipeline…");
    this.playButton.disabled = true;
    try {
      await send("/api/live/start", { media: this.media });
    } catch (error) {
      this.playButton.disabled = false;
      this.say(`error: ${error.message}`, true);
    }
  }

  /** Whether a demo is starting or playing. */
  get running() {
    return this.playButton.disabled;
  }

  async stop() {
    this.player.pause();
    this.stopped = true; // pieces still arriving are not played
    for (const source of this.sources) source.stop();
    this.sources.clear();
    this.say("stopping…");
    try {
      await send("/api/live/stop");
    } catch (error) {
      this.say(`error: ${error.message}`, true);
    }
  }

  reset() {
    this.lines.clear();
    this.latencies = [];
    this.received = [];
    this.list.replaceChildren();
    document.getElementById("live-partial").textContent = "";
    document.getElementById("live-spanish").textContent = "";
    document.getElementById("live-stats").textContent = "";
  }

  onState(state) {
    const labels = {
      loading: "loading the live models…",
      warming: "warming up the models…",
      playing: "playing: Spanish speech and captions come as the speech is heard",
    };
    if (state.state === "playing") {
      this.player.src = fileURL(state.media);
      this.player.volume = Number(this.original.value);
      this.player.currentTime = 0;
      this.player.play().catch((error) => this.say(`cannot play: ${error.message}`, true));
      this.stopButton.disabled = false;
    }
    if (["finished", "failed", "stopped"].includes(state.state)) {
      this.playButton.disabled = false;
      this.stopButton.disabled = true;
    }
    if (state.state === "failed") return this.say(`error: ${state.error}`, true);
    if (state.state === "stopped") {
      const heard = state.lines === undefined ? "" : ` after ${state.lines} line${state.lines === 1 ? "" : "s"}`;
      return this.say(`stopped${heard}`);
    }
    if (state.state === "finished") {
      const lag = state.lag_max_s === null ? "" : `; the Spanish ended at most ${state.lag_max_s.toFixed(1)} s after its English`;
      const warned = state.warnings.length ? ` (${state.warnings.length} warning(s): ${state.warnings[0]})` : "";
      return this.say(`finished: ${state.lines} lines dubbed live${lag}${warned}`);
    }
    this.say(labels[state.state] || state.state);
  }

  line(index) {
    if (!this.lines.has(index)) {
      const en = el("div", { className: "en" });
      const es = el("div", { className: "es" });
      const latency = el("span", { className: "badge latency" }, "…");
      const item = el("li", {}, en, es);
      item.dataset.line = index;
      es.after(latency);
      this.list.append(item);
      this.lines.set(index, { item, en, es, latency });
    }
    return this.lines.get(index);
  }

  onSource(message) {
    const line = this.line(message.line);
    line.en.textContent = `${clock(message.start)}  ${message.text}`;
    line.item.scrollIntoView({ block: "nearest" });
  }

  onTranslation(message) {
    this.line(message.line).es.textContent = message.text;
    document.getElementById("live-spanish").textContent = message.text;
  }

  onLatency(message) {
    const line = this.line(message.line);
    line.latency.textContent = `${message.seconds.toFixed(2)} s`;
    line.latency.title = "end of the English speech to the first Spanish sample";
    this.latencies.push(message.seconds);
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    document.getElementById("live-stats").textContent =
      `latency (end of speech → Spanish audio): median ${median.toFixed(2)} s over ${sorted.length} lines`;
  }

  /** Schedule a piece of Spanish speech at its input-clock time on the video's clock. */
  onAudio(message) {
    if (!this.context || this.stopped) return;
    const bytes = Uint8Array.from(atob(message.pcm), (c) => c.charCodeAt(0));
    const pcm = new Int16Array(bytes.buffer);
    const buffer = this.context.createBuffer(1, pcm.length, message.rate);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i += 1) channel[i] = pcm[i] / 32768;
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    this.sources.add(source);
    source.addEventListener("ended", () => this.sources.delete(source));
    const delay = Math.max(0, message.start - this.player.currentTime);
    source.start(this.context.currentTime + delay);
    this.received.push({
      start: message.start,
      seconds: pcm.length / message.rate,
      videoTime: this.player.currentTime,
      playing: !this.player.paused && !this.player.ended,
    });
  }

  say(text, isError = false) {
    this.status.textContent = text;
    this.status.classList.toggle("error", isError);
  }
}
