"""What a prepared dataset holds, told to a person: files used, files skipped or changed and why,
bars, events, meters and instruments.

:func:`dataset_report` reads it from the manifest :func:`core.preprocess.dataset.preprocess_folder`
wrote (no piece is loaded), so the app can show it the moment preprocessing ends. ``usable`` is false
when not one bar could be encoded: such a dataset cannot be trained on, and the report says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.preprocess.dataset import load_manifest
from core.preprocess.report import FileReport


@dataclass(frozen=True)
class DatasetReport:
    folder: Path
    files: int
    used: int
    bars: int
    events: int
    notes_in: int
    notes_kept: int
    skipped: tuple[tuple[str, str], ...]  # (file, reason)
    changed: tuple[tuple[str, str], ...]  # (file, what was dropped or split, one line)
    meters: dict[str, int]  # bars per meter, most bars first
    instruments: dict[str, int]  # note events per instrument class, most first
    dropped: dict[str, int]  # notes dropped per reason, over every file

    @property
    def usable(self) -> bool:
        return self.used > 0 and self.bars > 0

    def headline(self) -> str:
        """One line: "12 files: 10 used, 2 skipped; 480 bars, 9,120 events" (or why none is usable)."""
        line = f"{self.files} file{'s' * (self.files != 1)}: {self.used} used, {len(self.skipped)} skipped"
        if not self.usable:
            return line + "; no usable bars: nothing to train on (see why below)"
        return line + f"; {self.bars:,} bars, {self.events:,} events"

    def text(self, limit: int = 200) -> str:
        """The whole report as plain text, at most ``limit`` files listed per section."""
        lines = [self.headline()]
        if self.meters:
            lines.append("Meters (bars): " + ", ".join(f"{m} {n:,}" for m, n in self.meters.items()))
        if self.instruments:
            lines.append("Instruments (notes): " + ", ".join(f"{i} {n:,}" for i, n in self.instruments.items()))
        if self.dropped:
            kept = f"{self.notes_kept:,} of {self.notes_in:,} notes kept"
            lines.append(f"{kept}; dropped: " + ", ".join(f"{r} {n:,}" for r, n in self.dropped.items()))
        for title, rows in (("Skipped", self.skipped), ("Used with changes", self.changed)):
            if rows:
                lines += ["", f"{title} ({len(rows)}):"]
                lines += [f"  {source}: {reason}" for source, reason in rows[:limit]]
                if len(rows) > limit:
                    lines.append(f"  … and {len(rows) - limit} more")
        return "\n".join(lines)


def _most_first(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def dataset_report(manifest: dict, folder: str | Path) -> DatasetReport:
    """The report of a manifest (see the module docstring)."""
    entries = list(manifest.get("files", []))
    totals = manifest.get("totals", {})
    ok = [e for e in entries if e.get("status") == "ok"]
    skipped = tuple((e["source"], str(e.get("reason") or "skipped")) for e in entries if e.get("status") != "ok")
    changed = tuple(
        (e["source"], FileReport.from_json(e).summary().removeprefix("ok: "))
        for e in ok
        if e.get("dropped") or e.get("trimmed")
    )
    return DatasetReport(
        folder=Path(folder),
        files=len(entries),
        used=len(ok),
        bars=int(totals.get("bars", sum(e.get("bars", 0) for e in ok))),
        events=int(totals.get("events", sum(e.get("events", 0) for e in ok))),
        notes_in=int(totals.get("notes_in", 0)),
        notes_kept=int(totals.get("notes_kept", 0)),
        skipped=skipped,
        changed=changed,
        meters=_most_first(totals.get("meters", {})),
        instruments=_most_first(totals.get("instruments", {})),
        dropped=_most_first(totals.get("dropped", {})),
    )


def read_dataset_report(folder: str | Path) -> DatasetReport:
    """The report of the dataset in ``folder`` (:class:`DatasetError` if it holds none)."""
    return dataset_report(load_manifest(folder), folder)
