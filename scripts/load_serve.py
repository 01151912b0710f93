"""Load test for `dubber serve`: throughput and latency per client count, then a soak; or, with
`--failover`, a batch dubbed through two servers while one is killed.

    python scripts/load_serve.py [--models default|fast] [--levels 1,2,4,8] [--seconds 60]
                                 [--mt] [--soak-seconds 300] [--soak-clients 32] [--batch 4]
    python scripts/load_serve.py --failover [--files 10]

Starts `dubber serve` on free loopback ports (traffic goes to 127.0.0.1 only), sends each
shared clip (`../shared/data/asr`) through s2st once (what engines set up lazily), then for each
level of concurrent clients sends s2st requests for `--seconds` (and, with `--mt`, MT batches
first) and prints requests, throughput, p50/p95 latency and, per stage model, the requests it
ran at once and a request's queue and compute time (Triton's metrics). The s2st requests are
the shared English sentences read by the English Piper voice, each sent once: the shared clips
repeat, and the translator remembers lines it has translated. The soak runs `--soak-clients`
clients, a quarter each sending asr (the shared clips), mt, tts and s2st requests, for
`--soak-seconds`, counts failed requests and samples the server's memory (RSS of the server and
all its child processes).

`--models default` serves what a fresh install serves (the store in $DUBBER_HOME or
~/.cache/dubber, so what it converted once is reused); `--models fast` serves whisper-tiny.en,
Apertium and the Piper joe voice, the fastest installed here (a stand-in: an English voice reads
the Spanish).

`--failover` starts two servers, dubs `--files` short files (pieces of the shared recordings) with
`dubber dub --server A,B`, kills server B with SIGKILL once it has answered 10 requests of the
batch and starts it again on the same ports; then dubs the same files locally with the same
models and compares every line (source and Spanish) and the outputs (all written, none left
half-written).
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CLIP = DATA / "asr" / "cmuarctic_aew_a0003.wav"  # about 3 s of real English speech
LEVELS = (1, 2, 4, 8)


@dataclass
class Tally:
    """Latencies of finished requests and the count of failed ones, shared by client threads."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0  # from the first request sent to the last answered
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float | None, error: str = "") -> None:
        with self.lock:
            if seconds is None:
                self.failures += 1
                self.errors.append(error)
            else:
                self.latencies.append(seconds)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, from /proc."""
    parents, total = {pid}, 0
    entries = sorted(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())
    for child in entries:
        try:
            stat = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if child == pid or int(stat[1]) in parents:
            parents.add(child)
            total += int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
    return total / 2**20


FAST_MODELS = ("--asr", "whisper-tiny.en", "--tts", "piper-en_US-joe-medium", "--mt", "apertium")
SERVED = {"default": (), "fast": FAST_MODELS}


def start_server(
    home: Path | None,
    log: Path,
    ports: tuple[int, int, int] | None = None,
    models: tuple[str, ...] = FAST_MODELS,
) -> tuple[subprocess.Popen, str, tuple[int, int, int]]:
    """`dubber serve` with `models` on free loopback ports (or `ports`), its store in `home`
    (None: the user's); the process, its URL and its ports once it is ready."""
    from dubber.engines.wire import READY_PATH
    from dubber.serve.server import free_ports

    http, grpc, metrics = ports or free_ports(3)
    command = [sys.executable, "-m", "dubber", "serve", *models, "--threads", "2"]
    command += ["--http-port", str(http), "--grpc-port", str(grpc)]
    command += ["--metrics-port", str(metrics)]
    env = dict(os.environ, DUBBER_OFFLINE="1", HF_HUB_OFFLINE="1")
    if home is not None:
        env["DUBBER_HOME"] = str(home)
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{http}"
    deadline = time.monotonic() + 900  # the first start of the LLM converts it
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"dubber serve exited:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}{READY_PATH}", timeout=2):
                return process, url, (http, grpc, metrics)
        except OSError:
            time.sleep(0.5)
    process.terminate()
    sys.exit("dubber serve was not ready in 900 s")


def requester(
    url: str, model: str, requests: list[dict[str, np.ndarray]], turns: Iterator[int]
) -> Callable[[], None]:
    """A per-thread callable (with its own client) that sends request number next(`turns`)
    (shared by the clients of a run: each request another) to `model`; an answer with an
    empty output counts as a failure."""
    from pytriton.client import ModelClient

    client = ModelClient(url, model, init_timeout_s=60, inference_timeout_s=600)
    infer = client.infer_batch if model in ("mt", "tts") else client.infer_sample

    def send() -> None:
        answer = infer(**requests[next(turns) % len(requests)])
        if not all(np.asarray(output).size for output in answer.values()):
            raise AssertionError(f"{model} answered an empty output")

    return send


def run_clients(makers: list[Callable[[], Callable[[], None]]], seconds: float) -> Tally:
    """Each maker builds one client thread's request; all loop until `seconds` have passed
    (the requests in flight then finish and count)."""
    tally, began = Tally(), time.monotonic()
    stop = began + seconds

    def client(make: Callable[[], Callable[[], None]]) -> None:
        send = make()
        while time.monotonic() < stop:
            sent = time.monotonic()
            try:
                send()
            except Exception as error:  # a failed request is what the soak counts
                tally.record(None, f"{type(error).__name__}: {str(error)[-200:]}")
            else:
                tally.record(time.monotonic() - sent)

    threads = [threading.Thread(target=client, args=(m,)) for m in makers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.seconds = time.monotonic() - began
    return tally


def summary(tally: Tally, items_per_request: int = 1) -> str:
    done = len(tally.latencies)
    if not done:
        return f"0 requests, {tally.failures} failed"
    cuts = statistics.quantiles(tally.latencies, n=20) if done > 1 else tally.latencies * 19
    return (
        f"{done:5d} req  {done * items_per_request / tally.seconds:7.2f} items/s"
        f"  p50 {statistics.median(tally.latencies) * 1000:7.0f} ms"
        f"  p95 {cuts[18] * 1000:7.0f} ms  failed {tally.failures}"
    )


def stages(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]) -> str:
    """Per stage model, between two readings of the metrics: requests per execution (the batch
    it ran), and the mean queue and compute time of a request."""

    def grew(name: str, model: str) -> float:
        return after.get((name, model), 0.0) - before.get((name, model), 0.0)

    shown = []
    for model in ("asr", "mt", "tts"):
        requests = grew("nv_inference_request_success", model)
        runs = grew("nv_inference_exec_count", model)
        if runs:
            queue = grew("nv_inference_queue_duration_us", model) / requests / 1000
            compute = grew("nv_inference_compute_infer_duration_us", model) / requests / 1000
            shown.append(
                f"{model} {requests / runs:.2f}/run queue {queue:.0f} compute {compute:.0f} ms"
            )
    return "; ".join(shown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", choices=tuple(SERVED), default="default")
    parser.add_argument("--levels", default="1,2,4,8", help="client counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0, help="per level and model")
    parser.add_argument("--mt", action="store_true", help="MT batches at each level too")
    parser.add_argument("--soak-seconds", type=float, default=300.0)
    parser.add_argument("--soak-clients", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4, help="sentences per MT request")
    parser.add_argument("--failover", action="store_true", help="two servers, one killed")
    parser.add_argument("--files", type=int, default=10, help="files dubbed in --failover")
    args = parser.parse_args()
    if args.failover:
        failover(max(2, min(args.files, 40)))
        return
    levels = [int(level) for level in args.levels.split(",")]
    if not 0 < args.seconds <= 300 or not 0 <= args.soak_seconds <= 900:
        parser.error("keep it bounded: --seconds up to 300, --soak-seconds up to 900")
    if not 1 <= args.soak_clients <= 64 or not all(1 <= level <= 64 for level in levels):
        parser.error("client counts must be 1 to 64")

    from pytriton.client.warnings import NotSupportedTimeoutWarning

    warnings.filterwarnings("ignore", category=NotSupportedTimeoutWarning)
    load = Load.read(args.batch)
    with tempfile.TemporaryDirectory(prefix="dubber-load-") as folder:
        home = None if args.models == "default" else Path(folder)
        log = Path(folder) / "serve.log"
        process, url, ports = start_server(home, log, models=SERVED[args.models])
        metrics = f"http://127.0.0.1:{ports[2]}/metrics"
        stand_in = " (a stand-in: the English Piper voice reads the Spanish)"
        print(f"server {url} (pid {process.pid}), models {args.models}"
              f"{stand_in if args.models == 'fast' else ''}, load {os.getloadavg()}")  # fmt: skip
        try:
            print(f"server RSS after start: {tree_rss_mb(process.pid):.0f} MiB")
            warm = requester(url, "s2st", load.requests["asr"], itertools.count())
            for _ in load.requests["asr"]:  # what the engines set up lazily, set up
                warm()
            rates = {}
            for level in levels:
                if args.mt:
                    tally = run_clients(load.clients("mt", level, url), args.seconds)
                    print(f"mt   x{level}: {summary(tally, args.batch)}")
                before = _counters(metrics)
                tally = run_clients(load.clients("s2st", level, url), args.seconds)
                print(f"s2st x{level}: {summary(tally)}")
                print(f"  per request: {stages(before, _counters(metrics))}")
                rates[level] = len(tally.latencies) / tally.seconds
            if len(rates) > 1 and rates[levels[0]]:
                top = levels[-1]
                print(f"s2st throughput x{top} / x{levels[0]}: {rates[top] / rates[levels[0]]:.2f}")
            if args.soak_seconds:
                soak(url, process.pid, load, args)
        finally:
            process.send_signal(signal.SIGTERM)
            print(f"server exit code {process.wait(timeout=120)}, load {os.getloadavg()}")


@dataclass
class Load:
    """The requests clients send: the shared clips (asr), batches of the shared English
    sentences (mt), the shared Spanish sentences (tts) and the English sentences read aloud
    (s2st); and a count of the requests sent per model, so each request is another."""

    requests: dict[str, list[dict[str, np.ndarray]]]
    turns: dict[str, Iterator[int]] = field(default_factory=dict)

    @classmethod
    def read(cls, batch: int) -> Load:
        from dubber.media.decode import decode_audio

        def column(texts: list[str]) -> np.ndarray:
            return np.array([[text.encode()] for text in texts], dtype=np.object_)

        english = (DATA / "mt" / "test.en").read_text(encoding="utf-8").splitlines()
        spanish = (DATA / "mt" / "test.es").read_text(encoding="utf-8").splitlines()
        clips = [{"audio": decode_audio(path)} for path in sorted((DATA / "asr").glob("*.wav"))]
        return cls(
            {
                "asr": clips,
                "s2st": read_aloud([text for text in english if len(text) < 200]),
                "mt": [{"text": column(english[i : i + batch])} for i in range(0, 64, batch)],
                "tts": [{"text": column([text])} for text in spanish if len(text) < 160],
            }
        )

    def client(self, model: str, url: str) -> Callable[[], None]:
        """One client of `model`, sending the requests no other client of it has sent yet."""
        turns = self.turns.setdefault(model, itertools.count())
        return requester(url, model, self.requests[model], turns)

    def clients(self, model: str, count: int, url: str) -> list[Callable[[], Callable[[], None]]]:
        """`count` clients of `model`."""
        return [lambda: self.client(model, url)] * count


def read_aloud(texts: list[str]) -> list[dict[str, np.ndarray]]:
    """Each text read by the English Piper voice, as a 16 kHz s2st request: new words in every
    request, so the translator's memory of lines it translated before does not answer for it
    (the shared clips repeat). Synthetic speech in; every model that answers is the served one."""
    from dubber.engines.load import load_synthesizer
    from dubber.engines.protocols import synthesize_all
    from dubber.engines.voice import Voice
    from dubber.media.decode import AUDIO_RATE, resample
    from dubber.settings import RuntimeOptions
    from dubber.store.store import Store

    voice = Voice("piper-en_US-joe-medium")
    synthesizer, _ = load_synthesizer(Store(), voice, "en", RuntimeOptions(threads=2))
    requests = []
    for text in texts:
        speech = synthesize_all(synthesizer, text)
        audio = resample(speech.samples, speech.sample_rate, AUDIO_RATE)
        requests.append({"audio": np.asarray(audio, np.float32)})
    return requests


def soak(url: str, pid: int, load: Load, args) -> None:
    """`--soak-clients` clients, a quarter on each of asr, mt, tts and s2st, for
    `--soak-seconds`; the server's RSS sampled every 5 s."""
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(5.0):
            samples.append(tree_rss_mb(pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    models = ("asr", "mt", "tts", "s2st")
    makers = [lambda i=i: load.client(models[i % 4], url) for i in range(args.soak_clients)]
    tally = run_clients(makers, args.soak_seconds)
    done.set()
    sampler.join()
    print(f"soak x{args.soak_clients} (asr, mt, tts, s2st) for {args.soak_seconds:.0f} s:")
    print(f"  {summary(tally)}; errors {sorted(set(tally.errors))[:3]}")
    if samples:
        minutes = [statistics.mean(samples[i : i + 12]) for i in range(0, len(samples), 12)]
        print(
            f"  server RSS MiB: first {samples[0]:.0f}, max {max(samples):.0f},"
            f" last {samples[-1]:.0f}; mean of each minute"
            f" {', '.join(f'{mib:.0f}' for mib in minutes)} ({len(samples)} samples)"
        )


def failover(count: int) -> None:
    """A batch of `count` files through two servers, one killed (SIGKILL) and restarted."""
    from dubber.media.decode import decode_audio, write_wav

    clips = sorted((DATA / "asr").glob("*.wav"))
    with tempfile.TemporaryDirectory(prefix="dubber-failover-") as folder:
        root = Path(folder)
        media = root / "media"
        media.mkdir()
        for number in range(count):  # about 10 s each: two clips, one after the other
            pair = [decode_audio(clips[(2 * number + k) % len(clips)]) for k in (0, 1)]
            write_wav(media / f"item{number:02d}.wav", np.concatenate(pair), 16000)
        servers = [start_server(root, root / f"serve{k}.log") for k in range(2)]
        try:
            _failover_batch(root, media, servers, count)
        finally:
            for process, _, _ in servers:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=120)


def _failover_batch(root: Path, media: Path, servers: list, count: int) -> None:
    """The batch through both servers, server B killed in the middle of it; then the check."""
    env = dict(os.environ, DUBBER_HOME=str(root / "client"), DUBBER_OFFLINE="1")
    remote = root / "remote"
    urls = ",".join(url for _, url, _ in servers)
    began = time.monotonic()
    dub = subprocess.Popen(
        [*DUB, str(media), "-o", str(remote), "--server", urls, "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    metrics = f"http://127.0.0.1:{servers[1][2][2]}/metrics"
    while _answered(metrics) < 10 and dub.poll() is None:  # B is busy with the batch: kill it
        time.sleep(0.2)
    victim, victim_url, victim_ports = servers[1]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    print(f"killed {victim_url} (SIGKILL) {time.monotonic() - began:.1f} s into the batch")
    _wait_for_free(victim_ports)  # its Triton process outlives it a moment, holding them
    try:
        servers[1] = start_server(root, root / "serve1-again.log", victim_ports)
    except SystemExit:
        dub.kill()
        raise
    print(f"restarted on the same ports {time.monotonic() - began:.1f} s into the batch")
    _, stderr = dub.communicate(timeout=1800)
    seconds = time.monotonic() - began
    local = root / "local"
    same_models = ["--asr-model", "whisper-tiny.en", "--engine", "apertium"]
    same_models += ["--voice", "piper-en_US-joe-medium"]
    subprocess.run(
        [*DUB, str(media), "-o", str(local), *same_models], env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    written = sorted(path.name for path in remote.glob("*.es.wav"))
    same = sum(_lines(remote, name) == _lines(local, name) for name in written)
    leftovers = [p.name for p in remote.iterdir() if ".tmp" in p.name or p.name.startswith(".")]
    print(
        f"dub exit {dub.returncode} in {seconds:.1f} s: {len(written)} of {count} dubbed,"
        f" {same} with every line as the local dub's; leftovers {leftovers}"
    )
    said = stderr.decode().splitlines()
    (root.parent / "failover-client.log").write_text("\n".join(said))
    print("client said:", *[line for line in said if "answer" in line or "error" in line][:3])


DUB = (sys.executable, "-m", "dubber", "dub")


def _counters(metrics: str) -> dict[tuple[str, str], float]:
    """Triton's counters from its Prometheus metrics, by (metric, model), summed over
    versions; empty when the server does not answer."""
    try:
        with urllib.request.urlopen(metrics, timeout=2) as page:
            text = page.read().decode()
    except OSError:
        return {}
    counters: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        if line.startswith("nv_inference_") and 'model="' in line:
            name, _, rest = line.partition("{")
            model = rest.split('model="', 1)[1].split('"', 1)[0]
            counters[name, model] = counters.get((name, model), 0.0) + float(line.rsplit(" ")[-1])
    return counters


def _answered(metrics: str) -> int:
    """Requests a server has answered, all models."""
    counts = _counters(metrics)
    return int(sum(n for (name, _), n in counts.items() if name == "nv_inference_request_success"))


def _wait_for_free(ports: tuple[int, ...], seconds: float = 60.0) -> None:
    """Until nothing listens on `ports` any more (or `seconds` have passed)."""
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        busy = 0
        for port in ports:
            with socket.socket() as probe:
                busy += probe.connect_ex(("127.0.0.1", port)) == 0
        if not busy:
            return
        time.sleep(0.5)


def _lines(folder: Path, dubbed: str) -> list[tuple[str, str]]:
    """Each line's source and Spanish in the dub document beside `dubbed`."""
    import json

    document = folder / dubbed.replace(".es.wav", ".dub.json")
    return [
        (line["source"], line["translation"]) for line in json.loads(document.read_text())["lines"]
    ]


if __name__ == "__main__":
    main()
