"""Render the application icon (SVG) into a Windows .ico with the sizes Windows asks for.

Usage: ``.venv/bin/python packaging/make_icon.py [SVG] [ICO]``
(default: ``resources/ui/icons/app.svg`` → ``resources/ui/app.ico``).

Qt's own ICO writer stores one image per file, so the container is written here: an ICONDIR
header, one ICONDIRENTRY per size, and each image as PNG (which Windows reads since Vista).
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (16, 20, 24, 32, 40, 48, 64, 96, 128, 256)


def render_png(svg: Path, size: int) -> bytes:
    """One square PNG of the SVG at ``size`` pixels."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icon: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, b"PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO container holding the given PNG images, smallest first."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries = b""
    images = b""
    for size, png in sorted(pngs.items()):
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        images += png
        offset += len(png)
    return header + entries + images


def main(argv: list[str]) -> int:
    svg = Path(argv[0]) if argv else ROOT / "resources" / "ui" / "icons" / "app.svg"
    ico = Path(argv[1]) if len(argv) > 1 else ROOT / "resources" / "ui" / "app.ico"
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])
    ico.write_bytes(ico_bytes({size: render_png(svg, size) for size in SIZES}))
    del app
    sys.stdout.write(f"make_icon: wrote {ico} ({ico.stat().st_size} bytes, sizes {SIZES})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
