"""Load test for `dubber serve`: throughput and latency per client count, then a soak; or, with
`--failover`, a batch dubbed through two servers while one is killed.

    python scripts/load_serve.py [--seconds 20] [--soak-seconds 300] [--soak-clients 32] [--batch 4]
    python scripts/load_serve.py --failover [--files 10]

Starts `dubber serve` on free loopback ports (traffic goes to 127.0.0.1 only), then for 1, 2, 4
and 8 concurrent clients sends MT batches for `--seconds`, then short s2st requests for
`--seconds`, and prints requests, throughput and p50/p95 latency per level. The soak runs
`--soak-clients` clients (MT batches, one in eight sending s2st) for `--soak-seconds`, counts
failed requests and samples the server's memory (RSS of the server and all its child processes).

MT is Apertium (the offline default here): each call is one Apertium process, so the server's
dynamic batching turns many clients' sentences into one call. Models: whisper-tiny.en and the
Piper joe voice, the fastest installed here.

`--failover` starts two servers, dubs `--files` short files (pieces of the shared recordings) with
`dubber dub --server A,B`, kills server B with SIGKILL once it has answered 10 requests of the
batch and starts it again on the same ports; then dubs the same files locally with the same
models and compares every line (source and Spanish) and the outputs (all written, none left
half-written).
"""

from __future__ import annotations

import argparse
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
from collections.abc import Callable
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


MODELS = ("--asr", "whisper-tiny.en", "--tts", "piper-en_US-joe-medium", "--mt", "apertium")


def start_server(
    home: Path, log: Path, ports: tuple[int, int, int] | None = None
) -> tuple[subprocess.Popen, str, tuple[int, int, int]]:
    from dubber.serve.server import free_ports

    http, grpc, metrics = ports or free_ports(3)
    command = [sys.executable, "-m", "dubber", "serve", *MODELS, "--threads", "2"]
    command += ["--http-port", str(http), "--grpc-port", str(grpc)]
    command += ["--metrics-port", str(metrics)]
    env = dict(os.environ, DUBBER_HOME=str(home), DUBBER_OFFLINE="1", HF_HUB_OFFLINE="1")
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{http}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"dubber serve exited; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=2):
                return process, url, (http, grpc, metrics)
        except OSError:
            time.sleep(0.5)
    process.terminate()
    sys.exit("dubber serve was not ready in 300 s")


def mt_request(url: str, sentences: list[str]) -> Callable[[], None]:
    """A per-thread callable that sends one MT batch (a fresh client per thread)."""
    from pytriton.client import ModelClient

    client = ModelClient(url, "mt", init_timeout_s=60, inference_timeout_s=600)
    batch = np.array([[s.encode()] for s in sentences], dtype=np.object_)

    def send() -> None:
        answer = client.infer_batch(text=batch)
        assert len(answer["translations"]) == len(sentences)

    return send


def s2st_request(url: str, audio: np.ndarray) -> Callable[[], None]:
    from pytriton.client import ModelClient

    client = ModelClient(url, "s2st", init_timeout_s=60, inference_timeout_s=600)

    def send() -> None:
        answer = client.infer_sample(audio=audio)
        assert len(answer["audio"]) > 0

    return send


def run_clients(makers: list[Callable[[], Callable[[], None]]], seconds: float) -> Tally:
    """Each maker builds one client thread's request; all loop until `seconds` have passed."""
    tally, stop = Tally(), time.monotonic() + seconds

    def client(make: Callable[[], Callable[[], None]]) -> None:
        send = make()
        while time.monotonic() < stop:
            began = time.monotonic()
            try:
                send()
            except Exception as error:  # a failed request is what the soak counts
                tally.record(None, f"{type(error).__name__}: {str(error)[-200:]}")
            else:
                tally.record(time.monotonic() - began)

    threads = [threading.Thread(target=client, args=(m,)) for m in makers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def summary(tally: Tally, seconds: float, items_per_request: int) -> str:
    done = len(tally.latencies)
    if not done:
        return f"0 requests, {tally.failures} failed"
    cuts = statistics.quantiles(tally.latencies, n=20) if done > 1 else tally.latencies * 19
    return (
        f"{done:5d} req  {done * items_per_request / seconds:7.2f} items/s"
        f"  p50 {statistics.median(tally.latencies) * 1000:7.0f} ms"
        f"  p95 {cuts[18] * 1000:7.0f} ms  failed {tally.failures}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per level and model")
    parser.add_argument("--soak-seconds", type=float, default=300.0)
    parser.add_argument("--soak-clients", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4, help="sentences per MT request")
    parser.add_argument("--failover", action="store_true", help="two servers, one killed")
    parser.add_argument("--files", type=int, default=10, help="files dubbed in --failover")
    args = parser.parse_args()
    if args.failover:
        failover(max(2, min(args.files, 40)))
        return
    if not 0 < args.seconds <= 120 or not 0 <= args.soak_seconds <= 900:
        parser.error("keep it bounded: --seconds up to 120, --soak-seconds up to 900")
    if not 1 <= args.soak_clients <= 64:
        parser.error("--soak-clients must be 1 to 64")

    from pytriton.client.warnings import NotSupportedTimeoutWarning

    from dubber.media.decode import decode_audio

    warnings.filterwarnings("ignore", category=NotSupportedTimeoutWarning)

    sentences = (DATA / "mt" / "test.en").read_text(encoding="utf-8").splitlines()
    batches = [sentences[i : i + args.batch] for i in range(0, len(sentences), args.batch)]
    audio = decode_audio(CLIP)
    with tempfile.TemporaryDirectory(prefix="dubber-load-") as folder:
        home = Path(folder)
        process, url, _ = start_server(home, home / "serve.log")
        print(f"server {url} (pid {process.pid}), load {os.getloadavg()}")
        try:
            print(f"server RSS after start: {tree_rss_mb(process.pid):.0f} MiB")
            for level in LEVELS:
                makers = [
                    lambda i=i: mt_request(url, batches[i % len(batches)]) for i in range(level)
                ]
                tally = run_clients(makers, args.seconds)
                print(f"mt   x{level}: {summary(tally, args.seconds, args.batch)}")
                tally = run_clients([lambda: s2st_request(url, audio)] * level, args.seconds)
                print(f"s2st x{level}: {summary(tally, args.seconds, 1)}")
            if args.soak_seconds:
                soak(url, process.pid, batches, audio, args)
        finally:
            process.send_signal(signal.SIGTERM)
            print(f"server exit code {process.wait(timeout=120)}, load {os.getloadavg()}")


def soak(url: str, pid: int, batches: list[list[str]], audio: np.ndarray, args) -> None:
    """`--soak-clients` clients for `--soak-seconds`; RSS sampled every few seconds."""
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(5.0):
            samples.append(tree_rss_mb(pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    makers = [
        (lambda: s2st_request(url, audio))
        if i % 8 == 7
        else (lambda i=i: mt_request(url, batches[i % len(batches)]))
        for i in range(args.soak_clients)
    ]
    tally = run_clients(makers, args.soak_seconds)
    done.set()
    sampler.join()
    print(f"soak x{args.soak_clients} for {args.soak_seconds:.0f} s: {len(tally.latencies)} ok,")
    print(f"  {tally.failures} failed {sorted(set(tally.errors))[:3]}")
    if samples:
        quarter = max(len(samples) // 4, 1)
        print(
            f"  server RSS MiB: first {samples[0]:.0f}, max {max(samples):.0f},"
            f" last {samples[-1]:.0f}; mean of first quarter"
            f" {statistics.mean(samples[:quarter]):.0f}, last quarter"
            f" {statistics.mean(samples[-quarter:]):.0f} ({len(samples)} samples)"
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


def _answered(metrics: str) -> int:
    """Requests a server has answered, all models, from its Prometheus metrics."""
    try:
        with urllib.request.urlopen(metrics, timeout=2) as page:
            text = page.read().decode()
    except OSError:
        return 0
    counts = [line.rsplit(" ", 1)[1] for line in text.splitlines()
              if line.startswith("nv_inference_request_success{")]  # fmt: skip
    return int(sum(float(count) for count in counts))


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
