"""Instrument classes as a swappable table (spec 1.5).

MahlerNet folds the 128 General MIDI programs into 23 instrument classes and writes each class back
with one program. That mapping is data, not code: an :class:`InstrumentTable` holds it, the encoder and
decoder take a table, and :data:`MAHLERNET` is the original's. Another table (say one that keeps the
harp) is another instance with the same number of classes; a model records the name of the table it
was trained with.

The original's table drops tremolo strings (44), the orchestral harp (46) and the sound effects
(112-127), and re-renders oboes (68) as English horn; :data:`MAHLERNET` keeps that, faithfully. It has
no drum class: the drum channel (10, 0-based 9) is dropped when a piece is encoded with it.

:data:`POP_DRUMS` is the table of the models trained on pop and game music (issue #17). It keeps the
23 classes, so a drum model has exactly the shape of a classical one, but gives class 17 (English
horn in the original's table) to the **drum kit**: every note on channel 10, its pitch the General
MIDI percussion key (35 acoustic bass drum .. 81 open triangle, :data:`DRUM_KEYS`), written back on
channel 10. The English horn's programs (oboe, English horn, bagpipe, shanai) join the clarinet's
class, whose playable range holds theirs; tremolo strings (44) join the strings and the harp (46) the
plucked guitars, because both are common in game music. A model records the name of its table in its
network config (``instruments``), so generation encodes, masks and writes with the table it learnt.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.representation.events import N_INSTRUMENTS
from core.music.score import Track

IGNORED = -1
DRUM_KEYS = (35, 81)  # General MIDI percussion keys, acoustic bass drum .. open triangle (inclusive)
DRUM_PROGRAM = 0  # the standard kit, selected on the drum channel


@dataclass(frozen=True)
class InstrumentTable:
    """``class_of_program[p]`` is the class of GM program ``p`` (0-based) or ``IGNORED``;
    ``output_programs[c]`` the program class ``c`` is written with; ``names[c]`` its name;
    ``drum_class`` the class of the drum channel's notes, or None when the table drops drums."""

    name: str
    names: tuple[str, ...]
    output_programs: tuple[int, ...]
    class_of_program: tuple[int, ...]
    drum_class: int | None = None

    def __post_init__(self) -> None:
        if not len(self.names) == len(self.output_programs) == N_INSTRUMENTS:
            raise ValueError(f"instrument table {self.name}: needs {N_INSTRUMENTS} classes")
        if len(self.class_of_program) != 128:
            raise ValueError(f"instrument table {self.name}: needs a class for each of the 128 programs")
        if any(not IGNORED <= c < N_INSTRUMENTS for c in self.class_of_program):
            raise ValueError(f"instrument table {self.name}: a program maps to a class out of range")
        if any(not 0 <= p <= 127 for p in self.output_programs):
            raise ValueError(f"instrument table {self.name}: an output program is outside 0-127")
        if self.drum_class is not None:
            if not 0 <= self.drum_class < N_INSTRUMENTS:
                raise ValueError(f"instrument table {self.name}: the drum class is out of range")
            if self.drum_class in self.class_of_program:
                raise ValueError(f"instrument table {self.name}: a program maps to the drum class")

    @classmethod
    def from_ranges(
        cls,
        name: str,
        classes: list[tuple[str, int, tuple[int | tuple[int, int], ...]]],
        drum_class: int | None = None,
    ) -> "InstrumentTable":
        """Build from ``(class name, output program, programs or (first, last) ranges mapped in)``;
        ``drum_class`` (whose program list is empty) takes the drum channel's notes."""
        mapping = [IGNORED] * 128
        for index, (_, _, programs) in enumerate(classes):
            for item in programs:
                first, last = item if isinstance(item, tuple) else (item, item)
                for program in range(first, last + 1):
                    if mapping[program] != IGNORED:
                        raise ValueError(f"instrument table {name}: program {program} is mapped twice")
                    mapping[program] = index
        return cls(name, tuple(c[0] for c in classes), tuple(c[1] for c in classes), tuple(mapping), drum_class)

    def class_of(self, program: int) -> int | None:
        """Class of GM program ``program``, or None if the table ignores it."""
        index = self.class_of_program[program]
        return None if index == IGNORED else index

    def class_of_track(self, track: Track) -> int | None:
        """Class of the notes of ``track``: the drum class on the drum channel (None without one),
        else the class of its program (None if ignored)."""
        if track.is_drum:
            return self.drum_class
        return self.class_of(track.program)

    @property
    def has_drums(self) -> bool:
        return self.drum_class is not None

    def is_drum(self, index: int) -> bool:
        """True for the drum class (written on channel 10, its pitches percussion keys)."""
        return index == self.drum_class

    def output_program(self, index: int) -> int:
        return self.output_programs[index]

    def class_name(self, index: int) -> str:
        return self.names[index]


MAHLERNET = InstrumentTable.from_ranges(
    "mahlernet",
    [
        ("Piano", 0, ((0, 15), 108)),
        ("Organ", 16, ((16, 23),)),
        ("Guitar", 27, ((24, 31), 45, (104, 107))),
        ("Bass", 33, ((32, 39),)),
        ("Violin", 40, (40, 110)),
        ("Viola", 41, (41,)),
        ("Cello", 42, (42,)),
        ("Contrabass", 43, (43,)),
        ("Strings", 48, ((48, 51), 55)),
        ("Timpani", 47, (47,)),
        ("Choir", 52, ((52, 54),)),
        ("Trumpet", 56, (56, 59)),
        ("Trombone", 57, (57,)),
        ("Tuba", 58, (58,)),
        ("French horn", 60, (60,)),
        ("Brass section", 61, ((61, 63),)),
        ("Saxophone", 66, ((64, 67),)),
        ("English horn", 69, (68, 69, 109, 111)),
        ("Bassoon", 70, (70,)),
        ("Clarinet", 71, (71,)),
        ("Flute", 73, ((72, 79),)),
        ("Synth lead", 80, ((80, 87),)),
        ("Synth pad", 88, ((88, 103),)),
    ],
)

POP_DRUMS = InstrumentTable.from_ranges(
    "pop-drums",
    [
        ("Piano", 0, ((0, 15), 108)),
        ("Organ", 16, ((16, 23),)),
        ("Guitar", 27, ((24, 31), 45, 46, (104, 107))),
        ("Bass", 33, ((32, 39),)),
        ("Violin", 40, (40, 110)),
        ("Viola", 41, (41,)),
        ("Cello", 42, (42,)),
        ("Contrabass", 43, (43,)),
        ("Strings", 48, (44, (48, 51), 55)),
        ("Timpani", 47, (47,)),
        ("Choir", 52, ((52, 54),)),
        ("Trumpet", 56, (56, 59)),
        ("Trombone", 57, (57,)),
        ("Tuba", 58, (58,)),
        ("French horn", 60, (60,)),
        ("Brass section", 61, ((61, 63),)),
        ("Saxophone", 66, ((64, 67),)),
        ("Drums", DRUM_PROGRAM, ()),
        ("Bassoon", 70, (70,)),
        ("Clarinet", 71, (68, 69, 71, 109, 111)),
        ("Flute", 73, ((72, 79),)),
        ("Synth lead", 80, ((80, 87),)),
        ("Synth pad", 88, ((88, 103),)),
    ],
    drum_class=17,
)

TABLES: dict[str, InstrumentTable] = {MAHLERNET.name: MAHLERNET, POP_DRUMS.name: POP_DRUMS}


def table_named(name: str) -> InstrumentTable:
    """A registered table by name (:class:`KeyError` names the known ones)."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"no instrument table {name!r} (known: {', '.join(sorted(TABLES))})") from None
