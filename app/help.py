"""The Help menu: a sheet of every shortcut and mouse gesture, a short "how to" (pick the seed bars,
Continue, Keep), and the model cards (what each model was trained on and its figures).

Each is a small non-modal window of text, made from what the app already knows: the shortcuts from
the action tables (:data:`app.actions.ACTION_SPECS` and the roll's ``NOTE_ACTION_SPECS``, so the
sheet never disagrees with the keys), the cards from the JSON beside each model
(:mod:`core.model.card_summary`, read without loading a model).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Iterable, Sequence

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from app.actions import ACTION_SPECS, MENUS, NOTE_ACTION_SPECS, ActionSpec
from core.model.card_summary import CardSummary

BUNDLED_MODELS = Path(__file__).resolve().parents[1] / "models"

# The mouse and keys of the roll and ruler that are not menu commands.
GESTURES: tuple[tuple[str, str], ...] = (
    ("Drag on the ruler", "pick the seed bars (amber)"),
    ("Shift+click on the ruler", "extend the seed to the bar clicked"),
    ("Ctrl+drag on the ruler", "pick the context bars (blue)"),
    ("Double-click on the bar numbers", "move the playback cursor there"),
    ("Drag the grip at the end of the seed", "drop the seed bars as a .mid file into a DAW or folder"),
    ("Right-click on the ruler", "clear the context or the whole selection"),
    ("Ctrl+wheel on the notes", "zoom time around the mouse"),
    ("Shift+wheel / wheel", "scroll in time / in pitch"),
    ("Double-click on the notes", "move the playback cursor there"),
    ("Click a key of the keyboard", "hear that pitch"),
    ("Click / Shift+click a note", "select it / add it to the selection (or take it away)"),
    ("Drag on empty space among the notes", "select the notes in the box (Shift: add them)"),
    ("Drag a note / the right end of a note", "move the selection on the grid / make it longer or shorter"),
    ("Click with the pencil (P); drag right", "draw a note one grid step long into the header's track; longer"),
    ("Right-click a note", "delete it (the whole selection when it is selected)"),
    ("Drag a stem in the velocity lane", "set that note's velocity, or move every selected note's by as much"),
    ("Click a hit in the drum lane", "select it (with the pencil: draw a hit on that drum's row)"),
    ("Drag a hit in the drum lane", "move the selected hits on the grid, and onto another drum's row"),
    ("Esc during a drag", "cancel it: nothing changes (otherwise Esc is Panic)"),
)

HOW_TO_HTML = """
<h3>Continue a piece</h3>
<ol>
<li><b>Open</b> a MIDI file (Ctrl+O) or drop one on the window.</li>
<li><b>Pick the seed bars</b>: drag over bar numbers on the ruler above the notes (amber). The model
continues from them. Ctrl+drag picks <i>context</i> bars before them (blue), which it also hears.
Shift+click extends the seed.</li>
<li><b>Continue</b> (Ctrl+Return, or the Continue button at the right): choose how many bars and
variations first. The variations appear in the list; the chosen one is drawn dashed in the roll
where it would go, in the room it would take, zoomed so that it can be read.</li>
<li><b>Audition</b> a variation, or drag it out as a .mid file.</li>
<li><b>Keep</b> the one you like, as the <i>Keep as</i> box says: <i>insert</i> it (later bars move
on), let it <i>replace</i> the bars after the seed, or add it as a <i>new take</i> on tracks of its
own (muted at first: unmute them in Tracks to compare).</li>
<li>Not quite it? <b>Undo</b> (Ctrl+Z): the variations come back, so you can try the next one.</li>
</ol>
<h3>Morph between two bars</h3>
<p>Pick bars A and B (or press <i>From ruler</i>), press Interpolate (Ctrl+I), slide through the
steps and Insert the one you like after bar A. Undo brings the steps back too.</p>
<h3>Arrange a chord progression</h3>
<p>The chord lane above the roll shows the chords; double-click one to type another. In the
<b>Arrange</b> panel (with <i>classical-arranger</i> picked), type a progression (C G Am F, or the
selected bars' chords, filled in for you), one or two chords a bar, and a style: the selected bar's,
or a random one. Each variation keeps its instruments from bar to bar; Keep it like a continuation,
after the selected bars.</p>
<h3>Steer it, or start from nothing</h3>
<p>The <i>Attributes</i> sliders in both panels move the new music towards more or fewer notes, a
higher or lower register, fuller chords, busier rhythms, more stepwise melodies or longer notes
(Reset puts them back). <b>Generate from Scratch</b> (Ctrl+G) writes a new piece, or bars after this
one, in the meter and tempo you choose. <i>Humanize</i> beside Audition plays the new bars with a
performer's timing and dynamics; your own bars are heard as written.</p>
<h3>Hear it</h3>
<p>Space plays from the cursor, L loops the seed bars, Esc stops everything. Without a sound card,
File &gt; Export Audio renders the piece to a WAV file. Its <i>Humanize</i> (0% = as written) performs
the bars selected in the roll, or every bar when you tick <i>Humanize the whole piece</i>; the rest plays
as written, and your piece itself is never changed. Saved and exported MIDI files keep the notes as
written.</p>
"""


def key_text(spec: ActionSpec) -> str:
    """The spec's shortcuts as this platform writes them ("Ctrl+Z, Ctrl+Shift+Z")."""
    return ", ".join(QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText) for s in spec.shortcuts)


def shortcut_sheet_html(specs: Sequence[ActionSpec] = ACTION_SPECS + NOTE_ACTION_SPECS) -> str:
    """Every command with its keys, menu by menu, then the mouse gestures."""
    by_name = {spec.name: spec for spec in specs}
    listed: set[str] = set()
    parts = ["<h3>Keyboard</h3><table cellspacing='0' cellpadding='3'>"]
    for title, names in MENUS:
        rows = [by_name[n] for n in names if n in by_name]
        if not rows:
            continue
        parts.append(f"<tr><td colspan='2'><b>{escape(title.replace('&', ''))}</b></td></tr>")
        for spec in rows:
            listed.add(spec.name)
            parts.append(_row(key_text(spec) or "–", f"{spec.text.replace('&', '')}: {spec.tip}"))
    others = [spec for spec in specs if spec.name not in listed]
    if others:
        parts.append("<tr><td colspan='2'><b>More</b></td></tr>")
        parts += [_row(key_text(spec) or "–", f"{spec.text.replace('&', '')}: {spec.tip}") for spec in others]
    parts.append("</table><h3>Mouse</h3><table cellspacing='0' cellpadding='3'>")
    parts += [_row(what, does) for what, does in GESTURES]
    parts.append("</table>")
    return "".join(parts)


def model_cards_html(cards: Iterable[CardSummary]) -> str:
    """Each card's lines under its model's name; a card that cannot be read says why."""
    parts = []
    for card in cards:
        parts.append(f"<h3>{escape(card.name)}</h3>")
        if card.problem:
            parts.append(f"<p style='color:#ff8a80'>{escape(card.problem)}</p>")
            continue
        parts.append("<table cellspacing='0' cellpadding='3'>")
        parts += [_row(heading, text) for heading, text in card.lines]
        parts.append(f"</table><p style='color:#8a919b'>{escape(str(card.path))}</p>")
    if not parts:
        parts.append("<p>No model found. Train one (Generate &gt; Train on Your Music) or copy a model in.</p>")
    return "".join(parts)


def _row(left: str, right: str) -> str:
    return f"<tr><td valign='top'><b>{escape(left)}</b></td><td>{escape(right)}</td></tr>"


class HelpWindow(QDialog):
    """A non-modal window of rich text with a Close button."""

    def __init__(self, title: str, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName(f"help_{title.lower().replace(' ', '_')}")
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(640, 560)

    def plain_text(self) -> str:
        return self.text.toPlainText()


def model_card_folders(searched: Sequence[Path] | None) -> list[Path]:
    """Where the model cards are: the folders the model search looked in, or, before it has run,
    the bundled models' folder."""
    return list(searched) if searched else [BUNDLED_MODELS]
