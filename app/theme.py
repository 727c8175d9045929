"""Colours and the dark style of the app, in one place so that every view agrees.

A dark, quiet background (like a DAW's arrange view) with saturated note colours per track; the seed
selection is warm (amber) and the context selection cool (blue), everywhere they appear.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = "#1b1d21"
PANEL = "#23262b"
PANEL_RAISED = "#2b2f35"
BORDER = "#34383f"
TEXT = "#d8dce2"
TEXT_DIM = "#8a919b"
ACCENT = "#f0a94a"  # amber: seed bars, primary buttons
CONTEXT = "#5aa9e6"  # blue: context bars
CURSOR = "#ff5d5d"
GHOST_OUTLINE = "#ffffff"

ROW_WHITE = "#22252a"
ROW_BLACK = "#1c1e22"
ROW_C = "#262a30"
GRID_BAR = "#4a505a"
GRID_BEAT = "#2f343b"
GRID_SUB = "#272a30"

# Track colours: distinct hues of similar lightness, readable on the dark background.
TRACK_COLORS = (
    "#5ec4f0",  # sky
    "#f2845c",  # coral
    "#9ed36a",  # lime
    "#b68cf0",  # violet
    "#f5cf4e",  # yellow
    "#4cc9b0",  # teal
    "#f06a9b",  # pink
    "#7f98f2",  # periwinkle
    "#d9a066",  # tan
    "#e07be0",  # orchid
    "#6fdc8c",  # mint
    "#f59f3b",  # orange
)
DRUM_COLOR = "#aab4c0"


def track_color(index: int, is_drum: bool = False) -> str:
    """Default colour of the ``index``-th track (drums are grey: they are not pitches)."""
    return DRUM_COLOR if is_drum else TRACK_COLORS[index % len(TRACK_COLORS)]


STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QWidget {{ color: {TEXT}; font-size: 9pt; }}
QDockWidget {{ titlebar-close-icon: none; }}
QDockWidget::title {{
    background: {PANEL}; padding: 5px 8px; border-bottom: 1px solid {BORDER};
    font-weight: bold; color: {TEXT_DIM}; text-transform: uppercase;
}}
QMenuBar {{ background: {PANEL}; border-bottom: 1px solid {BORDER}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: {PANEL_RAISED}; }}
QMenu {{ background: {PANEL}; border: 1px solid {BORDER}; }}
QMenu::separator {{ height: 1px; background: {BORDER}; margin: 4px 8px; }}
QToolBar {{ background: {PANEL}; border: none; border-bottom: 1px solid {BORDER}; spacing: 4px; padding: 3px; }}
QToolButton {{ background: transparent; border: 1px solid transparent; border-radius: 4px; padding: 3px 8px; }}
QToolButton:hover {{ background: {PANEL_RAISED}; border-color: {BORDER}; }}
QToolButton:checked {{ background: #3a3f47; border-color: {ACCENT}; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {BORDER}; color: {TEXT_DIM}; }}
QStatusBar QLabel {{ color: {TEXT_DIM}; padding: 0 6px; }}
QGroupBox {{ border: 1px solid {BORDER}; border-radius: 5px; margin-top: 14px; padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; color: {TEXT_DIM}; }}
QPushButton {{
    background: {PANEL_RAISED}; border: 1px solid {BORDER}; border-radius: 4px; padding: 4px 12px;
}}
QPushButton:hover {{ border-color: #4a505a; }}
QPushButton:disabled {{ color: #5d636c; }}
QPushButton#primary {{ background: {ACCENT}; color: #1b1d21; font-weight: bold; border: none; }}
QPushButton#primary:disabled {{ background: #5a4a33; color: #8a7a63; }}
QComboBox, QLineEdit {{
    background: {BACKGROUND}; border: 1px solid {BORDER}; border-radius: 4px; padding: 2px 6px;
    min-height: 18px;
}}
QRadioButton::indicator, QCheckBox::indicator {{
    width: 12px; height: 12px; border: 1px solid #5d636c; background: {BACKGROUND};
}}
QRadioButton::indicator {{ border-radius: 7px; }}
QCheckBox::indicator {{ border-radius: 3px; }}
QRadioButton::indicator:checked {{
    background: qradialgradient(cx:0.5, cy:0.5, radius:0.5, fx:0.5, fy:0.5,
        stop:0 {ACCENT}, stop:0.45 {ACCENT}, stop:0.55 {BACKGROUND}, stop:1 {BACKGROUND});
    border-color: {ACCENT};
}}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}
QRadioButton::indicator:hover, QCheckBox::indicator:hover {{ border-color: {ACCENT}; }}
QComboBox QAbstractItemView {{ background: {PANEL}; selection-background-color: {PANEL_RAISED}; }}
QSlider::groove:horizontal {{ height: 4px; background: {BORDER}; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: #8c6a3c; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: {ACCENT}; width: 12px; margin: -5px 0; border-radius: 6px; }}
QProgressBar {{ background: {BACKGROUND}; border: 1px solid {BORDER}; border-radius: 3px; height: 8px;
    text-align: center; color: {TEXT_DIM}; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QListWidget, QTreeWidget {{ background: {BACKGROUND}; border: 1px solid {BORDER}; }}
QScrollBar:horizontal {{ background: {BACKGROUND}; height: 12px; }}
QScrollBar:vertical {{ background: {BACKGROUND}; width: 12px; }}
QScrollBar::handle {{ background: #3b4048; border-radius: 4px; min-width: 24px; min-height: 24px; margin: 2px; }}
QScrollBar::handle:hover {{ background: #4a505a; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QToolTip {{ background: {PANEL_RAISED}; color: {TEXT}; border: 1px solid {BORDER}; padding: 4px; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion style, a dark palette and the style sheet above."""
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, PANEL),
        (QPalette.ColorRole.WindowText, TEXT),
        (QPalette.ColorRole.Base, BACKGROUND),
        (QPalette.ColorRole.AlternateBase, PANEL),
        (QPalette.ColorRole.Text, TEXT),
        (QPalette.ColorRole.Button, PANEL_RAISED),
        (QPalette.ColorRole.ButtonText, TEXT),
        (QPalette.ColorRole.Highlight, ACCENT),
        (QPalette.ColorRole.HighlightedText, BACKGROUND),
        (QPalette.ColorRole.ToolTipBase, PANEL_RAISED),
        (QPalette.ColorRole.ToolTipText, TEXT),
        (QPalette.ColorRole.PlaceholderText, TEXT_DIM),
    ):
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#5d636c"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#5d636c"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)
