"""Rows of the published benchmark table and how they are written (Markdown and JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

UNITS = {
    "s": "{:.2f} s",
    "ms": "{:.0f} ms",
    "x": "{:.2f}×",
    "xlen": "{:.3f}× length",
    "MB": "{:,.0f} MB",
    "fps": "{:.0f} frames/s",
    "s/min": "{:.2f} s per audio minute",
}


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    return UNITS.get(unit, "{:.3g} " + unit).format(value)


@dataclass
class Row:
    """One figure. ``target`` is an upper bound in the same unit (lower is better) or None (for information)."""

    group: str
    figure: str
    value: float | None
    unit: str
    target: float | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    detail: str = ""  # shown after the value, e.g. the ratio to the answer's length

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        return self.value <= self.target

    def status(self) -> str:
        if self.target is None:
            return "info" if self.value is not None else "not measured"
        if self.value is None:
            return "not measured"
        gap = self.value - self.target
        pct = 100 * gap / self.target if self.target else 0.0
        if gap <= 0:
            return f"✅ met ({-pct:.0f}% under)"
        return f"❌ missed by {fmt(gap, self.unit)} (+{pct:.0f}%)"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            display=fmt(self.value, self.unit),
            target_display=f"≤ {fmt(self.target, self.unit)}" if self.target is not None else None,
            met=self.met,
            status=self.status(),
        )
        if self.value is not None and self.target is not None:
            data["over_target"] = round(self.value - self.target, 4)
            data["over_target_pct"] = round(100 * (self.value - self.target) / self.target, 1)
        return data


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write(rows: list[Row], meta: dict[str, Any], md_path: Path, json_path: Path) -> None:
    json_path.write_text(
        json.dumps({"meta": meta, "rows": [r.to_json() for r in rows]}, indent=2, ensure_ascii=False) + "\n"
    )
    lines = ["# Benchmarks", ""]
    if meta.get("loaded"):
        lines += [
            f"> **Measured while the machine was loaded** (1-min load average {meta['load_average_start'][0]:.2f} "
            f"on {meta['machine']['cores']} cores at start): other work shared the CPU, so times are pessimistic. "
            "Re-run on a quiet machine for the published figures.",
            "",
        ]
    m = meta["machine"]
    lines += [
        f"- **Date**: {meta['date']}",
        f"- **Machine**: {m['cores']} cores, {m['cpu_model']}, {m['memory_gb']:.0f} GB RAM, Python {m['python']}",
        f"- **Command**: `{meta['command']}` ({meta['mode']}, best of {meta['repeat']} per timed figure)",
        f"- **Load average** (1/5/15 min) at start: {' / '.join(f'{x:.2f}' for x in meta['load_average_start'])}; "
        f"at end: {' / '.join(f'{x:.2f}' for x in meta['load_average_end'])}",
        f"- **Settings**: {meta['settings_summary']}",
        f"- **Code**: commit `{meta['git_commit']}`{' (with local changes)' if meta.get('git_dirty') else ''}; "
        f"run took {meta['run_seconds']:.0f} s",
        "",
        "Targets are for 2 cores. Each figure is measured in this run; ratios compare times from the same run. "
        "How each is measured: [bench/run.py](run.py). Raw numbers, all samples and per-step timings: "
        "[results.json](results.json).",
        "",
    ]
    group = None
    for row in rows:
        if row.group != group:
            group = row.group
            lines += [
                f"## {group}",
                "",
                "| Figure | Value | Target | Status | Note |",
                "| --- | --- | --- | --- | --- |",
            ]
        target = f"≤ {fmt(row.target, row.unit)}" if row.target is not None else "—"
        value = fmt(row.value, row.unit) + (f" ({row.detail})" if row.detail and row.value is not None else "")
        lines.append(
            f"| {_cell(row.figure)} | {_cell(value)} | {_cell(target)} | {_cell(row.status())} | {_cell(row.note)} |"
        )
        nxt = rows.index(row) + 1
        if nxt == len(rows) or rows[nxt].group != group:
            lines.append("")
    missed = [r for r in rows if r.met is False]
    lines += ["## Summary", ""]
    if missed:
        lines.append(f"{len(missed)} target(s) missed in this run:")
        lines += [f"- {r.figure}: {fmt(r.value, r.unit)} vs ≤ {fmt(r.target, r.unit)}" for r in missed]
    else:
        lines.append("Every target with a measured value was met in this run.")
    unmeasured = [r for r in rows if r.value is None]
    if unmeasured:
        lines += ["", "Not measured: " + "; ".join(f"{r.figure} ({r.note})" for r in unmeasured)]
    md_path.write_text("\n".join(lines) + "\n")
