"""Small building blocks the pages share: banners, badges, busy rows, copy boxes, sections."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wizard.ui.theme import Tone, icon, monospace, scaled_font, tint

# A colour of a panel: "#rrggbb", a role of the widget's palette, or None for none.
Colour = str | QPalette.ColorRole | None


def copy_text(text: str) -> None:
    """Put plain text on the clipboard.

    ``setText`` rather than ``setMimeData``: the clipboard takes ownership of a QMimeData that
    still has a Python wrapper, and Qt's exit handlers then delete it after Python finalised
    (SIGSEGV at exit, seen with PySide6 6.11).
    """
    QGuiApplication.clipboard().setText(text)


def heading(text: str, parent: QWidget | None = None) -> QLabel:
    """A section heading: a little larger, bold."""
    label = QLabel(text, parent)
    label.setFont(scaled_font(label, 1.1, bold=True))
    label.setAccessibleName(text)
    label.setContentsMargins(0, 6, 0, 0)
    return label


def wrapped(text: str = "", parent: QWidget | None = None, *, selectable: bool = False) -> QLabel:
    """A label that wraps and can be read by screen readers."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def shown_at_once(widget: QWidget) -> QWidget:
    """``widget``, shown now when its parent is on screen.

    A layout shows a widget added to a visible parent only by a queued call, one pass of the
    event loop later: whoever reads the page as it is filled (a screen reader, a test) would
    miss it. A parent not on screen yet shows it with itself, so nothing is done then (showing
    each widget of a page being built one by one would cost more).
    """
    parent = widget.parentWidget()
    if parent is not None and parent.isVisible():
        widget.show()
    return widget


def empty_layout(layout: QLayout) -> None:
    """Take every item out of ``layout``; its widgets are hidden at once (gone from the page
    now) and deleted once the event loop runs."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.hide()
            widget.deleteLater()


@dataclass(frozen=True)
class Look:
    """How a :class:`Panel` is painted.

    Attributes:
        border: the border's colour (None: no border).
        fill: the fill's colour (None: none, the parent shows through).
        width: the border's width in pixels.
        radius: the corners' radius (a box on all sides).
        edge: a rule down the left or right edge only, instead of a box.
    """

    border: Colour = QPalette.ColorRole.Mid
    fill: Colour = None
    width: int = 1
    radius: int = 6
    edge: Qt.Edge | None = None


class Panel(QFrame):
    """A box with a border and a fill it paints itself (see :class:`Look`).

    Painted rather than styled by a style sheet, as :func:`~wizard.ui.theme.tint` says why; a
    new look is :meth:`set_look` and one repaint, nothing to polish again.
    """

    def __init__(self, parent: QWidget | None = None, look: Look | None = None) -> None:
        super().__init__(parent)
        self._look = look or Look()

    def set_look(self, look: Look) -> None:
        """Change the border and fill (repainted when the event loop next runs)."""
        if look != self._look:
            self._look = look
            self.update()

    def _colour(self, colour: Colour) -> QColor | None:
        if colour is None:
            return None
        if isinstance(colour, QPalette.ColorRole):
            return self.palette().color(colour)
        return QColor(colour)

    def paintEvent(self, event: QPaintEvent) -> None:
        look = self._look
        border, fill, width = self._colour(look.border), self._colour(look.fill), look.width
        painter = QPainter(self)
        rect = self.rect()
        if look.edge is not None:
            if fill is not None:
                painter.fillRect(rect, fill)
            if border is not None:
                x = rect.right() + 1 - width if look.edge == Qt.Edge.RightEdge else rect.x()
                painter.fillRect(x, rect.y(), width, rect.height(), border)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        half = width / 2
        painter.setPen(QPen(border, width) if border is not None else Qt.PenStyle.NoPen)
        painter.setBrush(fill if fill is not None else Qt.BrushStyle.NoBrush)
        radius = look.radius
        painter.drawRoundedRect(QRectF(rect).adjusted(half, half, -half, -half), radius, radius)


class IconLabel(QLabel):
    """A fixed-size icon that keeps sharp at any scale."""

    def __init__(self, name: str, size: int = 20, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._size = size
        self.setFixedSize(size, size)
        self.set_icon(name)

    def set_icon(self, name: str) -> None:
        dpr = self.devicePixelRatioF() or 1.0
        pm = icon(name).pixmap(QSize(self._size, self._size), dpr)
        self.setPixmap(pm)


class Banner(Panel):
    """A coloured panel with an icon, a bold title and a body: a verdict or an error.

    Colour never speaks alone: the icon and the title say the same thing.
    """

    def __init__(self, parent: QWidget | None = None, *, icon_size: int = 32) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._icon = IconLabel(Tone.INFO.icon_name, icon_size, self)
        self._title = QLabel(self)
        self._title.setWordWrap(True)
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        self._body = wrapped(parent=self, selectable=True)
        self._next = wrapped(parent=self, selectable=True)
        text = QVBoxLayout()
        text.setSpacing(4)
        text.addWidget(self._title)
        text.addWidget(self._body)
        text.addWidget(self._next)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 12, 14, 12)
        row.setSpacing(14)
        row.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        self._title_factor = 1.0
        self.set_tone(Tone.INFO)

    def set_title_scale(self, factor: float) -> None:
        self._title_factor = factor
        self._title.setFont(scaled_font(self, factor, bold=True))

    def set_tone(self, tone: Tone) -> None:
        self._icon.set_icon(tone.icon_name)
        self.set_look(Look(border=tone.fg, fill=tone.bg))
        tint(self._title, tone.fg)
        self._title.setFont(scaled_font(self, self._title_factor, bold=True))

    def show_message(self, tone: Tone, title: str, body: str = "", next_step: str = "") -> None:
        """Fill and show the banner; empty parts are hidden."""
        self.set_tone(tone)
        self._title.setText(title)
        self._body.setText(body)
        self._body.setVisible(bool(body))
        self._next.setText(next_step)
        self._next.setVisible(bool(next_step))
        self.setAccessibleName(title)
        self.setAccessibleDescription(" ".join(p for p in (body, next_step) if p))
        self.show()

    def title_text(self) -> str:
        return self._title.text()

    def body_text(self) -> str:
        return self._body.text()

    def next_text(self) -> str:
        return self._next.text()


class Badge(QLabel):
    """A small rounded label: "Recommended", "Needs power-off", "Missing privileges"."""

    def __init__(self, text: str, tone: Tone, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._tone = tone
        self.setContentsMargins(9, 2, 9, 2)
        tint(self, tone.fg)
        self.setFont(scaled_font(self, 0.9, bold=True))
        self.setAccessibleName(text)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(self._tone.fg), 1))
        painter.setBrush(QColor(self._tone.bg))
        radius = min(9.0, self.height() / 2 - 0.5)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
        painter.end()
        super().paintEvent(event)


class BusyRow(QWidget):
    """A progress bar, what is happening, and a Cancel button.

    Signals:
        cancelRequested(): the technician pressed Cancel.
    """

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None, *, cancellable: bool = True) -> None:
        super().__init__(parent)
        self._label = QLabel(self)
        self._bar = QProgressBar(self)
        self._bar.setRange(0, 0)
        self._bar.setTextVisible(False)
        self._bar.setMaximumHeight(14)
        self._bar.setAccessibleName("Progress")
        self._cancel = QPushButton("Cancel", self)
        self._cancel.setAccessibleName("Cancel the running request")
        self._cancel.setAutoDefault(False)
        self._cancel.clicked.connect(self.on_cancel_clicked)
        self._cancel.setVisible(cancellable)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        col = QVBoxLayout()
        col.setSpacing(4)
        col.addWidget(self._label)
        col.addWidget(self._bar)
        row.addLayout(col, 1)
        row.addWidget(self._cancel, 0, Qt.AlignmentFlag.AlignBottom)
        self.hide()

    def start(self, text: str) -> None:
        self._label.setText(text)
        self._bar.setAccessibleDescription(text)
        self._cancel.setEnabled(True)
        self.show()

    def stop(self) -> None:
        self.hide()

    def text(self) -> str:
        return self._label.text()

    @Slot()
    def on_cancel_clicked(self) -> None:
        self._cancel.setEnabled(False)
        self.cancelRequested.emit()


class CopyBox(QWidget):
    """Read-only monospace text with a Copy button that confirms briefly.

    Signals:
        copied: the text was put on the clipboard.
    """

    copied = Signal()

    def __init__(
        self, title: str, parent: QWidget | None = None, *, lines: int = 4, mono: bool = True
    ) -> None:
        super().__init__(parent)
        self._edit = QPlainTextEdit(self)
        self._edit.setReadOnly(True)
        self._edit.setAccessibleName(title)
        if mono:
            self._edit.setFont(monospace())
        self._edit.setLineWrapMode(
            QPlainTextEdit.LineWrapMode.NoWrap if mono else QPlainTextEdit.LineWrapMode.WidgetWidth
        )
        metrics = self._edit.fontMetrics()
        self._edit.setFixedHeight(metrics.lineSpacing() * lines + 14)
        # "Copy ticket note", but "Copy PowerCLI": a name keeps its capitals.
        named = any(ch.isupper() for ch in title[1:])
        what = title if named else title[:1].lower() + title[1:]
        self._button = QPushButton(f"&Copy {what}", self)
        self._button.setAccessibleName(f"Copy {what}")
        self._button.setAutoDefault(False)
        self._button.clicked.connect(self.on_copy_clicked)
        self._button_text = self._button.text()
        # Owned by this widget, so it cannot fire after the button is gone.
        self._reset = QTimer(self)
        self._reset.setSingleShot(True)
        self._reset.setInterval(1500)
        self._reset.timeout.connect(self.on_reset_timeout)
        self._label = QLabel(title, self)
        self._label.setFont(scaled_font(self._label, 1.0, bold=True))
        self._label.setBuddy(self._edit)
        top = QHBoxLayout()
        top.addWidget(self._label)
        top.addStretch(1)
        top.addWidget(self._button)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(4)
        col.addLayout(top)
        col.addWidget(self._edit)

    @property
    def button(self) -> QPushButton:
        return self._button

    def set_lines(self, lines: int) -> None:
        self._edit.setFixedHeight(self._edit.fontMetrics().lineSpacing() * lines + 14)

    def set_text(self, text: str) -> None:
        self._edit.setPlainText(text)

    def text(self) -> str:
        return self._edit.toPlainText()

    @Slot()
    def on_copy_clicked(self) -> None:
        copy_text(self.text())
        self._button.setText("Copied")
        self._reset.start()
        self.copied.emit()

    @Slot()
    def on_reset_timeout(self) -> None:
        self._button.setText(self._button_text)


class Collapsible(QWidget):
    """A header button that shows or hides its content (caveats, details)."""

    def __init__(self, title: str, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._toggle = QToolButton(self)
        self._toggle.setText(title)
        self._toggle.setCheckable(True)
        self._toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._toggle.setArrowType(Qt.ArrowType.RightArrow)
        self._toggle.setAutoRaise(True)
        self._toggle.setAccessibleName(title)
        self._toggle.toggled.connect(self.on_toggle_toggled)
        self._content = content
        content.setParent(self)
        content.hide()
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(self._toggle)
        col.addWidget(content)

    @property
    def toggle(self) -> QToolButton:
        return self._toggle

    def set_title(self, title: str) -> None:
        self._toggle.setText(title)
        self._toggle.setAccessibleName(title)

    def set_expanded(self, expanded: bool) -> None:
        self._toggle.setChecked(expanded)

    @Slot(bool)
    def on_toggle_toggled(self, checked: bool) -> None:
        self._toggle.setArrowType(Qt.ArrowType.DownArrow if checked else Qt.ArrowType.RightArrow)
        self._content.setVisible(checked)


def hline(parent: QWidget | None = None) -> QFrame:
    """A thin separator."""
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line
