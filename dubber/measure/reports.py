"""Evaluation reports: the headline numbers, a Markdown page, and the scored texts saved beside
the JSON so anyone can recompute the figures with jiwer or sacrebleu."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from dubber.errors import UsageError
from dubber.outputs import OutputPlan, atomic_write_text


def headline(report: dict) -> dict:
    """The report without the texts kept for saving."""
    return {k: v for k, v in report.items() if not k.startswith("_")}


def summary(report: dict) -> dict[str, object]:
    """The headline numbers: top-level scalars (and small dicts such as fit counts)."""
    return {
        k: v
        for k, v in report.items()
        if not k.startswith("_") and (isinstance(v, (int, float, str)) or k == "fit_counts")
    }


def format_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def markdown(kind: str, report: dict, images: dict[str, str]) -> str:
    """A Markdown report: the headline table, the sacrebleu signature, and the plots."""
    lines = [f"# dubber eval {kind}", "", "| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {format_value(v)} |" for k, v in summary(report).items()]
    for name, signature in report.get("signature", {}).items():
        lines.append(f"\n{name} signature: `{signature}`")
    lines += [f"\n![{name}]({Path(path).name})" for name, path in images.items()]
    return "\n".join(lines) + "\n"


TEXT_FILES = {  # the scored texts each evaluation saves beside its report
    "asr": ("hyp.txt", "ref.txt"),
    "mt": ("hyp.txt", "ref.txt"),
    "tts": ("hyp.txt", "ref.txt"),
    "s2st": ("hyp.txt", "ref.txt", "mt.txt"),
    "sync": (),
    "dub": ("hyp.txt", "ref.txt"),
    "diarization": ("hyp.rttm", "ref.rttm"),
}


def check_report(
    kind: str, json_path: Path | None, out_dir: Path | None, inputs: Sequence[Path]
) -> None:
    """Before an evaluation runs: the report files it will write can be written, and none of
    them is one of its `inputs` (earlier reports of the same kind are replaced)."""
    folder = out_dir or (json_path.parent if json_path else None)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out-dir {out_dir} is a file, not a folder")
    plan = OutputPlan(inputs, force=True)
    if json_path is not None:
        plan.add(json_path, "report", formats=(".json",))
    if folder is not None:
        for name in (*TEXT_FILES[kind], "md", *(() if json_path else ("json",))):
            plan.add(folder / f"{kind}.{name}", f"{kind}.{name}")
    plan.check()


def save_report(
    report: dict,
    kind: str,
    json_path: Path | None,
    out_dir: Path | None,
    extra: Callable[[Path], dict[str, str]] | None = None,
    inputs: Sequence[Path] = (),
) -> list[Path]:
    """Write the JSON report, the scored texts (KIND.hyp.txt, KIND.ref.txt, ...) and a Markdown
    report (KIND.md) atomically, refusing to overwrite any of `inputs`.

    The texts go to `out_dir`, else beside the JSON; `extra(folder)` may write more files
    (plots) and returns {name: path}, shown in the Markdown and recorded in the JSON. Returns
    the files written.
    """
    folder = out_dir or (json_path.parent if json_path else None)
    texts = {
        folder / f"{kind}.{name}": lines
        for name, lines in (report.get("_texts", {}).items() if folder else ())
    }
    target = json_path or (folder / f"{kind}.json" if folder else None)
    planned = [*texts, *([folder / f"{kind}.md"] if folder else []), *([target] if target else [])]
    protected = {Path(p).resolve() for p in inputs}
    for path in planned:
        if path.resolve() in protected:
            raise UsageError(f"refusing to overwrite the input {path}: choose another --out-dir")
    data = headline(report)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for path, lines in texts.items():
            atomic_write_text(path, "".join(f"{line}\n" for line in lines))
            files[path.name.removeprefix(f"{kind}.").removesuffix(".txt")] = str(path)
        images = extra(folder) if extra is not None else {}
        files.update(images)
        atomic_write_text(folder / f"{kind}.md", markdown(kind, report, images))
        files["markdown"] = str(folder / f"{kind}.md")
        data["files"] = files
        planned += [Path(p) for p in images.values()]
    if target is not None:
        atomic_write_text(target, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return planned
