"""A folder of MIDI files -> a training dataset on disk, and back.

``preprocess_folder(IN, OUT)`` finds every ``.mid``/``.midi`` file under ``IN`` (any depth, any case),
encodes each in a worker process and writes

* ``OUT/<relative path of the file>.npz``: its :class:`EncodedPiece` (numpy arrays, no pickle);
* ``OUT/manifest.json``: per file its size, modification time, SHA-256, status and counts (bars,
  events, meters, instruments, what was dropped and why), plus totals, the representation version
  and the encoder options;
* ``OUT/report.txt``: every skipped file and every file that lost or changed notes, with the reasons.

It is incremental: a file whose size and modification time (or, failing those, content hash) are
those of the manifest is not encoded again, and a run with other options or another representation
version starts over. The output depends only on the input files: entries are sorted, nothing records
the time of the run, and the ``.npz`` files are written byte for byte the same.

``load_dataset(OUT)`` gives the pieces and the manifest back to the trainer. Long calls take a
``progress(done, total, name)`` callback and a ``cancel()`` callback checked between files.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import Cancelled, DatasetError, MahlerNetError
from core.preprocess.workers import run_in_workers
from core.preprocess.encode import encode_score
from core.preprocess.report import EncodeOptions, FileReport
from core.representation.events import REPRESENTATION_VERSION, VELOCITY_BINS, EncodedPiece

MANIFEST = "manifest.json"
REPORT = "report.txt"
FORMAT = "mahlernet-dataset"
# What a MIDI file may be called: Standard MIDI Files, karaoke files (.kar, an SMF with lyrics) and
# RIFF-wrapped ones (.rmi), all of which read_midi reads. The app's drag and drop uses the same list.
MIDI_SUFFIXES = (".mid", ".midi", ".kar", ".rmi", ".smf")

Progress = Callable[[int, int, str], None]
Cancel = Callable[[], bool]


@dataclass(frozen=True)
class DatasetSummary:
    """What a preprocessing run did."""

    out_dir: Path
    files: int
    encoded: int
    skipped: int
    reused: int  # files not encoded again (unchanged since the last run)
    bars: int
    events: int
    seconds: float
    notes_in: int = 0
    notes_kept: int = 0  # notes, however many pieces a long one is split into; never over notes_in

    def line(self) -> str:
        return (
            f"{self.files} files: {self.encoded} encoded, {self.skipped} skipped "
            f"({self.reused} unchanged since the last run); {self.bars} bars, {self.events} events, "
            f"{self.notes_kept} of {self.notes_in} notes kept in {self.seconds:.1f} s -> {self.out_dir}"
        )


@dataclass(frozen=True)
class Dataset:
    """An encoded dataset loaded from disk: its pieces (in manifest order) and its manifest."""

    pieces: list[EncodedPiece]
    manifest: dict


def find_midi_files(folder: Path, exclude: Path | None = None) -> list[Path]:
    """MIDI files under ``folder`` (sorted by relative path), leaving out anything under ``exclude``."""
    found = []
    for path in folder.rglob("*"):
        if path.suffix.lower() in MIDI_SUFFIXES and path.is_file():
            if exclude is not None and exclude in path.resolve().parents:
                continue
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def checked_folders(in_dir: str | Path, out_dir: str | Path) -> tuple[Path, Path]:
    """``in_dir`` and ``out_dir`` as paths, once the one is a folder and the other a folder or absent."""
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise DatasetError(in_dir, "is not a folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise DatasetError(out_dir, "exists and is not a folder")
    return in_dir, out_dir


def _sha256(path: Path) -> str:
    from core.midi.files import MAX_FILE_BYTES

    with path.open("rb") as file:
        return hashlib.sha256(file.read(MAX_FILE_BYTES + 1)).hexdigest()


def _encode_file(job: tuple[str, str, str, bool, str]) -> dict:
    """Worker: read, encode and save one file; returns its manifest entry (never raises for the file)."""
    source_path, relative, out_path, original_meters_only, table = job
    from core.midi.files import MAX_FILE_BYTES
    from core.representation.instruments import table_named

    path = Path(source_path)
    stat = path.stat()
    entry: dict = {"source": relative, "npz": "", "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    options = EncodeOptions(instruments=table_named(table), original_meters_only=original_meters_only)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)  # a larger file is refused by the reader
    except OSError as error:
        entry["sha256"] = ""
        entry.update(FileReport(relative, "skipped", f"cannot be read ({error.strerror or error})").to_json())
        return entry
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    report, piece = encode_bytes(data, path, relative, options)
    if piece is not None:
        target = Path(out_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        piece.save(target)
        entry["npz"] = relative + ".npz"
    entry.update(report.to_json())
    return entry


def encode_bytes(data: bytes, path: Path, relative: str, options: EncodeOptions) -> tuple[FileReport, EncodedPiece | None]:
    """The report and encoded piece (None when skipped) of the MIDI file ``relative`` whose bytes
    are ``data``; never raises for the file (one broken file must not stop a corpus run)."""
    from core.midi.files import read_midi_bytes

    try:
        score = read_midi_bytes(data, path)
        result = encode_score(score, options, source=relative)
    except OSError as error:
        return FileReport(relative, "skipped", f"cannot be read ({error.strerror or error})"), None
    except MahlerNetError as error:
        return FileReport(relative, "skipped", _reason_of(error)), None
    except Exception as error:  # noqa: BLE001 - one broken file must not stop a corpus run
        return FileReport(relative, "skipped", f"encoder error ({type(error).__name__}: {error})"), None
    return result.report, result.piece


def _reason_of(error: MahlerNetError) -> str:
    return getattr(error, "reason", None) or str(error)


def _options_json(options: EncodeOptions) -> dict:
    return {**options.describe(), "representation_version": REPRESENTATION_VERSION, "velocity_bins": VELOCITY_BINS}


def _read_manifest(out_dir: Path) -> dict | None:
    try:
        data = json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def preprocess_folder(
    in_dir: str | Path,
    out_dir: str | Path,
    jobs: int | None = None,
    redo: bool = False,
    options: EncodeOptions = EncodeOptions(),
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> DatasetSummary:
    """Encode every MIDI file under ``in_dir`` into ``out_dir`` (see the module docstring).
    ``jobs`` worker processes (default: one per CPU; 1 works in this process)."""
    began = time.perf_counter()
    in_dir, out_dir = checked_folders(in_dir, out_dir)
    files = find_midi_files(in_dir, exclude=out_dir.resolve() if out_dir.exists() else None)
    if not files:
        raise DatasetError(in_dir, "holds no MIDI files (.mid or .midi)")
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = _options_json(options)
    previous = None if redo else _read_manifest(out_dir)
    known = {e["source"]: e for e in previous["files"]} if previous and previous.get("options") == settings else {}

    entries: dict[str, dict] = {}
    work: list[tuple[str, str, str, bool, str]] = []
    for path in files:
        relative = path.relative_to(in_dir).as_posix()
        old = known.get(relative)
        if old is not None and _unchanged(path, old, out_dir):
            stat = path.stat()
            entries[relative] = {**old, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            continue
        target = out_dir / (relative + ".npz")
        work.append((str(path), relative, str(target), options.original_meters_only, options.instruments.name))
        if target.exists():
            target.unlink()
    reused = len(entries)
    total = len(files)
    done = reused
    if progress:
        progress(done, total, "")
    try:
        for entry in _run(work, jobs, cancel):
            entries[entry["source"]] = entry
            done += 1
            if progress:
                progress(done, total, entry["source"])
    finally:
        _write_outputs(out_dir, settings, entries)
    _remove_stale(out_dir, entries)
    ordered = [entries[k] for k in sorted(entries)]
    return DatasetSummary(
        out_dir=out_dir,
        files=total,
        encoded=sum(1 for e in ordered if e["status"] == "ok"),
        skipped=sum(1 for e in ordered if e["status"] != "ok"),
        reused=reused,
        bars=sum(e["bars"] for e in ordered),
        events=sum(e["events"] for e in ordered),
        seconds=time.perf_counter() - began,
        notes_in=sum(e["notes_in"] for e in ordered),
        notes_kept=sum(e["notes_kept"] for e in ordered if e["status"] == "ok"),
    )


def _unchanged(path: Path, entry: dict, out_dir: Path) -> bool:
    stat = path.stat()
    if entry.get("npz") and not (out_dir / entry["npz"]).is_file():
        return False
    if stat.st_size != entry.get("size"):
        return False
    if stat.st_mtime_ns == entry.get("mtime_ns"):
        return True
    return _sha256(path) == entry.get("sha256")


def _run(work: list, jobs: int | None, cancel: Cancel | None):
    """Manifest entries of the jobs, as they finish (in worker processes when there are several)."""
    if not work:
        return
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(work)))
    # Big files first, so that the last worker does not finish long after the others.
    order = work if jobs == 1 else sorted(work, key=lambda job: -os.path.getsize(job[0]))
    yield from run_in_workers(_encode_file, order, jobs, cancel, chunksize=max(1, min(8, len(order) // (jobs * 8))))


def _write_outputs(out_dir: Path, settings: dict, entries: dict[str, dict]) -> None:
    """manifest.json and report.txt for the entries done so far (atomically: temp file + rename)."""
    ordered = [entries[k] for k in sorted(entries)]
    ok = [e for e in ordered if e["status"] == "ok"]
    totals = {
        "files": len(ordered),
        "encoded": len(ok),
        "skipped": len(ordered) - len(ok),
        "bars": sum(e["bars"] for e in ok),
        "events": sum(e["events"] for e in ok),
        "chunks": sum(e["chunks"] for e in ok),
        "notes_in": sum(e["notes_in"] for e in ordered),
        "notes_kept": sum(e["notes_kept"] for e in ok),
        "dropped": _add(e["dropped"] for e in ordered),
        "trimmed": _add(e["trimmed"] for e in ordered),
        "meters": _add(e["meters"] for e in ok),
        "instruments": _add(e["instruments"] for e in ok),
    }
    manifest = {"format": FORMAT, "options": settings, "totals": totals, "files": ordered}
    _atomic_write(out_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    _atomic_write(out_dir / REPORT, _report_text(ordered, totals))


def _add(counters) -> dict[str, int]:
    total: Counter[str] = Counter()
    for counter in counters:
        total.update(counter)
    return dict(sorted(total.items()))


def _report_text(entries: list[dict], totals: dict) -> str:
    lines = [
        f"{totals['files']} files: {totals['encoded']} encoded, {totals['skipped']} skipped; "
        f"{totals['bars']} bars, {totals['events']} events",
    ]
    if totals["dropped"]:
        lines.append("notes dropped: " + ", ".join(f"{k} {v}" for k, v in totals["dropped"].items()))
    skipped = [e for e in entries if e["status"] != "ok"]
    if skipped:
        lines += ["", f"skipped ({len(skipped)}):"]
        lines += [f"  {e['source']}: {e['reason']}" for e in skipped]
    trimmed = [e for e in entries if e["status"] == "ok" and (e["dropped"] or e["trimmed"])]
    if trimmed:
        lines += ["", f"encoded with changes ({len(trimmed)}):"]
        lines += [f"  {e['source']}: {FileReport.from_json(e).summary()}" for e in trimmed]
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _remove_stale(out_dir: Path, entries: dict[str, dict]) -> None:
    """Delete encoded pieces whose source file is gone, and half-written files of a stopped run."""
    wanted = {out_dir / e["npz"] for e in entries.values() if e.get("npz")}
    for path in out_dir.rglob("*.npz"):
        if path not in wanted:
            path.unlink()
    for path in out_dir.rglob("*.npz.tmp"):
        path.unlink()


def load_manifest(folder: str | Path) -> dict:
    """The manifest of a dataset folder, or :class:`DatasetError`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(folder, "is not a folder")
    data = _read_manifest(folder)
    if data is None:
        raise DatasetError(folder, f"holds no {MANIFEST} of a dataset; run `mahlernet preprocess` first")
    version = data.get("options", {}).get("representation_version")
    if version != REPRESENTATION_VERSION:
        raise DatasetError(folder, f"representation version {version}, this program reads {REPRESENTATION_VERSION}")
    return data


def load_dataset(folder: str | Path, progress: Progress | None = None, cancel: Cancel | None = None) -> Dataset:
    """Every encoded piece of a dataset folder (in manifest order) and its manifest."""
    folder = Path(folder)
    manifest = load_manifest(folder)
    entries = [e for e in manifest["files"] if e.get("npz")]
    pieces = []
    for done, entry in enumerate(entries, 1):
        if cancel and cancel():
            raise Cancelled("loading cancelled")
        pieces.append(EncodedPiece.load(folder / entry["npz"]))
        if progress:
            progress(done, len(entries), entry["source"])
    if not pieces:
        raise DatasetError(folder, "holds no encoded pieces (every file was skipped)")
    return Dataset(pieces, manifest)
