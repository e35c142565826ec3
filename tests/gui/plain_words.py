"""What a newcomer reads on a page, and the ids that must not stand in it."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QAbstractButton, QLabel, QListWidget, QWidget

IDS = re.compile(
    r"\bC[1-4]\b"  # condition ids
    r"|\bvmx-\d+"  # hardware version keys
    r"|\bvm-\d+\b"  # morefs
    r"|\b\w+Guest\b"  # guest OS ids
    r"|config\.|guest\.\w|vim\."  # property paths, managed object types
    r"|\b[a-z]+_[a-z_]+\b"  # enum ids such as possibly_affected
)
"""What must not stand in a page's main text (it belongs behind Details and in the report)."""


def main_text(root: QWidget) -> list[str]:
    """Every text a person sees on ``root`` now: visible labels and buttons."""
    texts = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisible():
            continue
        if isinstance(widget, (QLabel, QAbstractButton)):
            texts.append(widget.text())
        elif isinstance(widget, QListWidget):
            texts += [widget.item(i).text() for i in range(widget.count())]
    return [t for t in texts if t.strip()]


def ids_in(root: QWidget) -> list[str]:
    return [t for t in main_text(root) if IDS.search(t)]
