"""Sharded datasets: a folder of 100,000 MIDI files preprocessed on every core with bounded memory,
resumable, without duplicates, and read lazily for training (the dataset may exceed RAM).

``mahlernet preprocess IN OUT --sharded`` writes

* ``OUT/shards/NNNNNN/``: one *shard* per ``shard_files`` consecutive input files: the event columns
  of all its pieces laid end to end as ``.npy`` files (the active-note matrices packed to bits), the
  per-bar table (``bar_*.npy``, with ``bar_chords.npy``: the chords of each bar's halves, which
  chord-conditioned models train on) and ``pieces.json``: its inputs (path, size, mtime) and one manifest
  entry per file, as :mod:`core.preprocess.dataset` writes them;
* ``OUT/shards.json``: the options, the shards, the duplicates found across shards, and totals;
* ``OUT/report.txt``: every skipped file and every file that lost or changed notes.

How it scales:

* **Streaming input.** Files are found by a walk that lists one folder at a time in name order
  (:func:`walk_midi_files`) and cut into shards as they come; a worker process encodes a whole shard
  and writes it, and hands back only its manifest entries. Memory is one shard per worker.
* **Resumable.** A shard is written into ``NNNNNN.tmp`` and renamed when complete. A later run skips
  every shard whose folder exists with the same inputs and options, so an interrupted run goes on
  where it stopped; the shards depend only on the input files, so the result is the dataset an
  uninterrupted run writes, byte for byte. ``shards.json`` is written last (``complete: true``).
* **No duplicates.** A file whose bytes (SHA-256) are those of a file before it (in walk order) is
  not trained on: within a shard it is not even encoded; across shards ``shards.json`` lists it and
  the reader leaves it out. Both are "skipped" in the report, naming the file they copy.
* **Lazy reading.** :func:`open_sharded` memory-maps the columns; :class:`ShardedEvents` reads the
  rows of a batch when it is collated, so only the per-bar table is in memory.

Adding or removing files moves the cut between later shards, which are then encoded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.preprocess.tables import BarTable
from core.errors import DatasetError
from core.harmony.templates import VOCABULARY
from core.preprocess.dataset import (
    MIDI_SUFFIXES,
    REPORT,
    Cancel,
    Progress,
    _atomic_write,
    _options_json,
    checked_folders,
    encode_bytes,
)
from core.preprocess.report import EncodeOptions, FileReport
from core.preprocess.workers import run_in_workers
from core.representation.events import N_INSTRUMENTS, N_PITCHES, REPRESENTATION_VERSION, EncodedPiece

INDEX = "shards.json"
SHARDS = "shards"
PIECES = "pieces.json"
FORMAT = "mahlernet-sharded-dataset"
SHARD_FILES = 256  # input files per shard
SCALAR_COLUMNS = ("offset", "duration", "pitch", "instrument", "beat", "velocity")
PACKED = {"active_pitches": N_PITCHES, "active_instruments": N_INSTRUMENTS}
BAR_COLUMNS = ("bar_start", "bar_stop", "bar_opens", "bar_numerator", "bar_denominator", "bar_piece")
CHORDS = "bar_chords"  # (bars, 2) int16 chord indices (core.harmony.conditioning); shards made before it lack it


@dataclass(frozen=True)
class InputFile:
    """One MIDI file of the input folder as a shard records it."""

    relative: str
    size: int
    mtime_ns: int

    def to_json(self) -> list:
        return [self.relative, self.size, self.mtime_ns]


@dataclass(frozen=True)
class ShardedSummary:
    """What a sharded preprocessing run did."""

    out_dir: Path
    files: int
    encoded: int
    skipped: int
    duplicates: int
    shards: int
    reused_shards: int  # shards left as they were (done by an earlier run)
    bars: int
    events: int
    seconds: float

    def line(self) -> str:
        return (
            f"{self.files} files: {self.encoded} encoded, {self.skipped} skipped ({self.duplicates} duplicates); "
            f"{self.shards} shards ({self.reused_shards} done before); {self.bars} bars, {self.events} events "
            f"in {self.seconds:.1f} s -> {self.out_dir}"
        )


# ------------------------------------------------------------------------------------ finding
def walk_midi_files(folder: Path, exclude: Path | None = None) -> Iterator[InputFile]:
    """The MIDI files under ``folder`` in a fixed order (each folder's entries by name, depth
    first), one folder listing at a time; anything under ``exclude`` is left out."""
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError:
            continue
        folders = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if exclude is None or Path(entry.path).resolve() != exclude:
                    folders.append(Path(entry.path))
            elif Path(entry.name).suffix.lower() in MIDI_SUFFIXES and entry.is_file():
                stat = entry.stat()
                yield InputFile(Path(entry.path).relative_to(folder).as_posix(), stat.st_size, stat.st_mtime_ns)
        stack.extend(reversed(folders))


def _cut(files: Iterator[InputFile], size: int) -> Iterator[list[InputFile]]:
    shard: list[InputFile] = []
    for file in files:
        shard.append(file)
        if len(shard) == size:
            yield shard
            shard = []
    if shard:
        yield shard


# ----------------------------------------------------------------------------------- encoding
@dataclass(frozen=True)
class _ShardJob:
    number: int
    in_dir: str
    shard_dir: str
    inputs: tuple[InputFile, ...]
    settings: dict
    original_meters_only: bool
    table: str


def shard_name(number: int) -> str:
    return f"{number:06d}"


def _is_done(shard_dir: Path, inputs: list[InputFile], settings: dict) -> bool:
    try:
        done = json.loads((shard_dir / PIECES).read_text())
    except (OSError, ValueError):
        return False
    same = done.get("options") == settings and done.get("inputs") == [f.to_json() for f in inputs]
    return same and (shard_dir / f"{CHORDS}.npy").is_file()  # a shard from before chords were stored is made again


def _encode_shard(job: _ShardJob) -> tuple[int, list[dict]]:
    """Worker: encode the files of one shard and write it (atomically); its manifest entries."""
    from core.midi.files import MAX_FILE_BYTES  # noqa: PLC0415
    from core.representation.instruments import table_named  # noqa: PLC0415

    options = EncodeOptions(instruments=table_named(job.table), original_meters_only=job.original_meters_only)
    entries: list[dict] = []
    pieces: list[EncodedPiece] = []
    seen: dict[str, str] = {}
    for file in job.inputs:
        path = Path(job.in_dir) / file.relative
        entry: dict = {"source": file.relative, "size": file.size, "mtime_ns": file.mtime_ns, "piece": -1}
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            entries.append({**entry, "sha256": "", **FileReport(file.relative, "skipped", f"cannot be read ({error.strerror or error})").to_json()})
            continue
        entry["sha256"] = digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            report = FileReport(file.relative, "skipped", f"duplicate of {seen[digest]} (same content)")
            entries.append({**entry, "duplicate_of": seen[digest], **report.to_json()})
            continue
        seen[digest] = file.relative
        report, piece = encode_bytes(data, path, file.relative, options)
        if piece is not None:
            entry["piece"] = len(pieces)
            pieces.append(piece)
        entries.append({**entry, **report.to_json()})
    _write_shard(Path(job.shard_dir), pieces, {"options": job.settings, "inputs": [f.to_json() for f in job.inputs], "files": entries})
    return job.number, entries


def _write_shard(shard_dir: Path, pieces: list[EncodedPiece], index: dict) -> None:
    """The columns of ``pieces`` end to end and ``pieces.json``, into ``shard_dir`` atomically."""
    temporary = shard_dir.with_name(shard_dir.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    events = [p.events for p in pieces]
    for name in SCALAR_COLUMNS:
        _save(temporary / f"{name}.npy", np.concatenate([getattr(e, name) for e in events]) if events else np.zeros(0, np.int16))
    for name, width in PACKED.items():
        matrix = np.concatenate([getattr(e, name) for e in events]) if events else np.zeros((0, width), bool)
        _save(temporary / f"{name}.npy", np.packbits(matrix, axis=1))
    bars = BarTable.of_pieces(pieces)
    for name, column in zip(BAR_COLUMNS, (bars.start, bars.stop, bars.opens, bars.numerator, bars.denominator, bars.piece)):
        _save(temporary / f"{name}.npy", column)
    if all(p.bar_chords is not None for p in pieces):
        chords = np.concatenate([p.bar_chords for p in pieces]) if pieces else np.zeros((0, 2), np.int16)  # type: ignore[misc]
        _save(temporary / f"{CHORDS}.npy", chords.astype(np.int16))
    (temporary / PIECES).write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(shard_dir, ignore_errors=True)
    os.replace(temporary, shard_dir)


def _save(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as handle:
        np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)


def preprocess_sharded(
    in_dir: str | Path,
    out_dir: str | Path,
    jobs: int | None = None,
    options: EncodeOptions = EncodeOptions(),
    shard_files: int = SHARD_FILES,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ShardedSummary:
    """Encode every MIDI file under ``in_dir`` into the sharded dataset ``out_dir`` (see the module
    docstring), on ``jobs`` worker processes (default: one per CPU; 1 works in this process)."""
    began = time.perf_counter()
    in_dir, out_dir = checked_folders(in_dir, out_dir)
    if shard_files < 1:
        raise DatasetError(out_dir, f"a shard holds at least one file, not {shard_files}")
    (out_dir / SHARDS).mkdir(parents=True, exist_ok=True)
    for stale in (out_dir / SHARDS).glob("*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    settings = _options_json(options)
    exclude = out_dir.resolve()
    reused, files_seen, done = 0, 0, 0
    finished: set[int] = set()  # shard numbers (their entries stay in the shards, not here)

    def jobs_to_run() -> Iterator[_ShardJob]:
        nonlocal reused, files_seen, done
        for number, inputs in enumerate(_cut(walk_midi_files(in_dir, exclude), shard_files)):
            files_seen += len(inputs)
            shard_dir = out_dir / SHARDS / shard_name(number)
            if _is_done(shard_dir, inputs, settings):
                reused += 1
                done += len(inputs)
                finished.add(number)
                continue
            yield _ShardJob(number, str(in_dir), str(shard_dir), tuple(inputs), settings, options.original_meters_only, options.instruments.name)

    if progress:
        progress(0, 0, "")
    for number, entries in _run(jobs_to_run(), jobs, cancel):
        finished.add(number)
        done += len(entries)
        if progress:
            progress(done, files_seen, entries[-1]["source"] if entries else "")
    if not finished:
        raise DatasetError(in_dir, "holds no MIDI files (.mid or .midi)")
    index = _write_index(out_dir, settings, len(finished))
    totals = index["totals"]
    return ShardedSummary(
        out_dir=out_dir, files=totals["files"], encoded=totals["encoded"], skipped=totals["skipped"],
        duplicates=totals["duplicates"], shards=len(finished), reused_shards=reused, bars=totals["bars"],
        events=totals["events"], seconds=time.perf_counter() - began,
    )  # fmt: skip


def _run(work: Iterator[_ShardJob], jobs: int | None, cancel: Cancel | None) -> Iterator[tuple[int, list[dict]]]:
    """Each shard's number and entries as it is finished (in worker processes when there are several)."""
    return run_in_workers(_encode_shard, work, max(1, jobs or os.cpu_count() or 1), cancel)


def _write_index(out_dir: Path, settings: dict, shards: int) -> dict:
    """``shards.json`` and ``report.txt`` from the shards' own indexes, read one at a time (totals
    and report lines accumulate; no list of every file is held), with the duplicates across
    shards; shard folders beyond the last are removed."""
    for extra in sorted((out_dir / SHARDS).iterdir()):
        if extra.is_dir() and extra.name.isdigit() and int(extra.name) >= shards:
            shutil.rmtree(extra)
    first_of: dict[str, str] = {}
    duplicates: dict[str, list[int]] = {}
    counts = Counter()
    dropped: Counter[str] = Counter()
    trimmed: Counter[str] = Counter()
    skipped_lines, changed_lines = [], []
    for number in range(shards):
        for entry in json.loads((out_dir / SHARDS / shard_name(number) / PIECES).read_text())["files"]:
            digest = entry.get("sha256")
            if entry.get("piece", -1) >= 0 and digest in first_of:
                duplicates.setdefault(shard_name(number), []).append(entry["piece"])
                entry = {**entry, **FileReport(entry["source"], "skipped", f"duplicate of {first_of[digest]} (same content)").to_json()}
            elif digest and digest not in first_of:
                first_of[digest] = entry["source"]
            ok = entry["status"] == "ok"
            counts.update(files=1, encoded=ok, skipped=not ok, duplicates=entry["reason"].startswith("duplicate of "),
                          bars=entry["bars"] if ok else 0, events=entry["events"] if ok else 0,
                          notes_in=entry["notes_in"], notes_kept=entry["notes_kept"] if ok else 0)  # fmt: skip
            dropped.update(entry["dropped"])
            trimmed.update(entry["trimmed"])
            if not ok:
                skipped_lines.append(f"  {entry['source']}: {entry['reason']}")
            elif entry["dropped"] or entry["trimmed"]:
                changed_lines.append(f"  {entry['source']}: {FileReport.from_json(entry).summary()}")
    names = ("files", "encoded", "skipped", "duplicates", "bars", "events", "notes_in", "notes_kept")
    totals = {name: int(counts[name]) for name in names} | {"dropped": dict(sorted(dropped.items())), "trimmed": dict(sorted(trimmed.items()))}
    index = {
        "format": FORMAT, "options": settings, "shards": [shard_name(n) for n in range(shards)],
        "duplicates": duplicates, "totals": totals, "complete": True,
    }  # fmt: skip
    _atomic_write(out_dir / INDEX, json.dumps(index, indent=1, sort_keys=True) + "\n")
    lines = [f"{totals['files']} files: {totals['encoded']} encoded, {totals['skipped']} skipped "
             f"({totals['duplicates']} duplicates); {totals['bars']} bars, {totals['events']} events"]  # fmt: skip
    if totals["dropped"]:
        lines.append("notes dropped: " + ", ".join(f"{k} {v}" for k, v in totals["dropped"].items()))
    if skipped_lines:
        lines += ["", f"skipped ({len(skipped_lines)}):", *skipped_lines]
    if changed_lines:
        lines += ["", f"encoded with changes ({len(changed_lines)}):", *changed_lines]
    _atomic_write(out_dir / REPORT, "\n".join(lines) + "\n")
    return index


# ------------------------------------------------------------------------------------ reading
def is_sharded(folder: str | Path) -> bool:
    return (Path(folder) / INDEX).is_file()


class ShardedEvents:
    """The events of every shard as one :class:`~core.preprocess.tables.EventStore`, memory-mapped: a batch
    reads only its own rows from disk (through the page cache)."""

    def __init__(self, shards: list[dict[str, np.ndarray]]):
        self.shards = shards
        sizes = [len(shard["offset"]) for shard in shards]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def take(self, index: np.ndarray) -> dict[str, np.ndarray]:
        flat = np.asarray(index, np.int64).reshape(-1)
        shard_of = np.searchsorted(self.offsets, flat, side="right") - 1
        order = np.argsort(shard_of, kind="stable")
        cuts = np.searchsorted(shard_of[order], np.arange(len(self.shards) + 1))
        out = {name: np.empty(len(flat), np.int16) for name in SCALAR_COLUMNS}
        out |= {name: np.empty((len(flat), (width + 7) // 8), np.uint8) for name, width in PACKED.items()}
        for number in np.flatnonzero(np.diff(cuts)):
            rows = order[cuts[number] : cuts[number + 1]]
            local = flat[rows] - self.offsets[number]
            for name, column in out.items():
                column[rows] = self.shards[number][name][local]
        taken = {name: out[name].reshape(np.shape(index)) for name in SCALAR_COLUMNS}
        for name, width in PACKED.items():
            taken[name] = np.unpackbits(out[name], axis=1, count=width).astype(bool).reshape(*np.shape(index), width)
        return taken


@dataclass(frozen=True)
class ShardedDataset:
    """A sharded dataset opened for training: events memory-mapped, bars and sources in memory."""

    folder: Path
    index: dict
    events: ShardedEvents
    bars: BarTable
    sources: tuple[str, ...]
    chords: np.ndarray | None = None  # per bar of ``bars``: the chords of its halves; None when a shard lacks them


def open_sharded(folder: str | Path) -> ShardedDataset:
    """Open the sharded dataset in ``folder``, or :class:`DatasetError` (incomplete, other version,
    damaged shard). Duplicates across shards are left out of the bar table."""
    folder = Path(folder)
    try:
        index = json.loads((folder / INDEX).read_text())
    except (OSError, ValueError) as error:
        raise DatasetError(folder / INDEX, f"not readable ({error})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT or not index.get("complete"):
        raise DatasetError(folder / INDEX, "not a complete sharded dataset; run `mahlernet preprocess --sharded` again")
    version = index.get("options", {}).get("representation_version")
    if version != REPRESENTATION_VERSION:
        raise DatasetError(folder, f"representation version {version}, this program reads {REPRESENTATION_VERSION}")
    shards, parts, sources = [], [], []
    chords: list[np.ndarray] | None = []
    offset = 0
    for name in index["shards"]:
        shard_dir = folder / SHARDS / name
        try:
            columns = {c: np.load(shard_dir / f"{c}.npy", mmap_mode="r", allow_pickle=False) for c in (*SCALAR_COLUMNS, *PACKED)}
            bars = {c: np.load(shard_dir / f"{c}.npy", allow_pickle=False) for c in BAR_COLUMNS}
            files = json.loads((shard_dir / PIECES).read_text())["files"]
        except (OSError, ValueError, KeyError) as error:
            raise DatasetError(shard_dir, f"damaged shard ({error}); run `mahlernet preprocess --sharded` again") from None
        names = {e["piece"]: e["source"] for e in files if e.get("piece", -1) >= 0}
        keep = ~np.isin(bars["bar_piece"], index.get("duplicates", {}).get(name, []))
        pieces = np.unique(bars["bar_piece"][keep])
        renumber = np.full(len(names) + 1, -1, np.int64)
        renumber[pieces] = np.arange(len(pieces)) + len(sources)
        sources.extend(names[int(p)] for p in pieces)
        parts.append((
            bars["bar_start"][keep] + offset, bars["bar_stop"][keep] + offset, bars["bar_opens"][keep],
            bars["bar_numerator"][keep], bars["bar_denominator"][keep], renumber[bars["bar_piece"][keep]],
        ))  # fmt: skip
        shards.append(columns)
        offset += len(columns["offset"])
        chords = _shard_chords(shard_dir, len(bars["bar_piece"]), chords, keep)
    table = BarTable.concatenate(parts)
    if not len(table.start):
        raise DatasetError(folder, "holds no encoded pieces (every file was skipped)")
    all_chords = np.concatenate(chords).astype(np.int64) if chords is not None else None
    return ShardedDataset(folder, index, ShardedEvents(shards), table, tuple(sources), all_chords)


def _shard_chords(shard_dir: Path, bars: int, chords: list[np.ndarray] | None, keep: np.ndarray) -> list[np.ndarray] | None:
    """``chords`` with the kept bars' chords of this shard added; None from the first shard without
    them on (a dataset made before chords were stored: it trains plain models only)."""
    path = shard_dir / f"{CHORDS}.npy"
    if chords is None or not path.is_file():
        return None
    try:
        table = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DatasetError(path, f"damaged shard ({error}); run `mahlernet preprocess --sharded` again") from None
    if table.shape != (bars, 2) or (table.size and not (0 <= table.min() and table.max() < len(VOCABULARY))):
        raise DatasetError(path, f"chords of {table.shape} for {bars} bars or outside the chord vocabulary; run `mahlernet preprocess --sharded` again")
    return [*chords, table[keep]]
