"""Icons, colours, fonts and the application style, in one place.

Colours carry meaning only together with an icon and words (never colour alone). Icons are the
SVG files in ``resources/ui/icons``; they scale cleanly at any device pixel ratio.
"""

from __future__ import annotations

import enum
import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from wizard import paths


def ui_resources() -> Path:
    """``resources/ui``: icons and help pages."""
    return paths.repo_resources() / "ui"


@cache
def icon(name: str) -> QIcon:
    """An icon from ``resources/ui/icons/<name>.svg`` (an empty icon when missing)."""
    path = ui_resources() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


class Tone(enum.Enum):
    """The few meanings a colour has here, each with its icon."""

    BAD = ("#c62828", "#fdecea", "status-error")
    WARN = ("#a86a00", "#fff4e0", "status-warning")
    UNKNOWN = ("#4f5b67", "#eef1f4", "status-unknown")
    GOOD = ("#2e7d32", "#e9f5ea", "status-ok")
    SHIELD = ("#1565c0", "#e8f0fb", "status-shield")
    INFO = ("#1565c0", "#e8f0fb", "status-info")

    @property
    def fg(self) -> str:
        return self.value[0]

    @property
    def bg(self) -> str:
        return self.value[1]

    @property
    def icon_name(self) -> str:
        return self.value[2]


MUTED = "#4f5b67"  # secondary text: sources, notes, reasons not chosen
AHEAD = "#6b7785"  # steps not reached yet


def tint(widget: QWidget, color: str | None, *, bold: bool | None = None) -> None:
    """Colour ``widget``'s text (None: back to its parent's colour), and make it bold or not.

    Through the widget's palette and font rather than a style sheet: each widget with a style
    sheet of its own gets a style object of its own, which Qt polishes widget by widget. A
    Choose fix page with four cards took 66 ms to build and show that way; its labels coloured
    through their palettes and its frames painted by :class:`~wizard.ui.widgets.Panel`, 32 ms.
    """
    if color is None:
        widget.setPalette(QPalette())  # resolves nothing: the parent's palette again
    else:
        palette = widget.palette()
        palette.setColor(widget.foregroundRole(), QColor(color))
        widget.setPalette(palette)
    if bold is not None and widget.font().bold() != bold:
        font = QFont(widget.font())
        font.setBold(bold)
        widget.setFont(font)


def monospace() -> QFont:
    """The system's fixed-width font, for fingerprints, property paths and commands."""
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


def scaled_font(widget: QWidget, factor: float, *, bold: bool = False) -> QFont:
    """The widget's font scaled by ``factor`` (relative sizes keep 150% displays tidy)."""
    font = QFont(widget.font())
    size = font.pointSizeF()
    if size > 0:
        font.setPointSizeF(size * factor)
    font.setBold(bold)
    return font


def apply_style(app: QApplication) -> None:
    """Native look on Windows; elsewhere Fusion with a calm light palette."""
    if sys.platform == "win32":
        return
    app.setStyle("Fusion")
    pal = QPalette()
    window = QColor("#f4f6f8")
    base = QColor("#ffffff")
    text = QColor("#1d2733")
    accent = QColor("#1f6fb2")
    pal.setColor(QPalette.ColorRole.Window, window)
    pal.setColor(QPalette.ColorRole.WindowText, text)
    pal.setColor(QPalette.ColorRole.Base, base)
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#f0f3f6"))
    pal.setColor(QPalette.ColorRole.Text, text)
    pal.setColor(QPalette.ColorRole.Button, QColor("#eef1f4"))
    pal.setColor(QPalette.ColorRole.ButtonText, text)
    pal.setColor(QPalette.ColorRole.Highlight, accent)
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffe8"))
    pal.setColor(QPalette.ColorRole.ToolTipText, text)
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor("#7a8592"))
    pal.setColor(QPalette.ColorRole.Link, accent)
    pal.setColor(QPalette.ColorRole.Mid, QColor("#c5ccd4"))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#9aa3ad"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#9aa3ad"))
    app.setPalette(pal)


def device_pixel_ratio() -> float:
    """The primary screen's device pixel ratio (1.0 without a screen)."""
    screen = QGuiApplication.primaryScreen()
    return screen.devicePixelRatio() if screen is not None else 1.0
