"""What the frozen program leaves out: read by the spec and by the Windows size estimate.

The product uses five Qt modules: QtCore, QtGui, QtWidgets, QtSvg (icons) and QtPrintSupport
(PDF reports). Everything else PySide6 ships is never loaded, and neither are the files
matched below. Paths are matched as PyInstaller places them inside the folder's ``_internal``
(lower case, forward slashes): ``PySide6/Qt/plugins/...`` on Linux, ``PySide6/plugins/...``
on Windows.
"""

from __future__ import annotations

import re

QT_MODULES_USED = ("QtCore", "QtGui", "QtWidgets", "QtSvg", "QtPrintSupport")

LINUX_SECRET_SERVICE = ("secretstorage", "jeepney")
"""keyring's Secret Service stack (``cryptography``, which it also needs, stays: the product
reads certificates with it).

The frozen Linux folder is CI's stand-in for the Windows payload, which never has these (its
keyring backend is Credential Manager through ``pywin32-ctypes``), so the Linux freeze leaves
them out as well. Run from source on Linux (``packaging/dev.sh run``) the product keeps them;
the frozen Linux program simply does not remember passwords, and says so, as on any machine
without a usable keyring.
"""

QT_MODULES_UNUSED = tuple(
    f"PySide6.{name}"
    for name in (
        "Qt3DAnimation",
        "Qt3DCore",
        "Qt3DExtras",
        "Qt3DInput",
        "Qt3DLogic",
        "Qt3DRender",
        "QtAxContainer",
        "QtBluetooth",
        "QtCharts",
        "QtConcurrent",
        "QtDataVisualization",
        "QtDBus",
        "QtDesigner",
        "QtGraphs",
        "QtHelp",
        "QtHttpServer",
        "QtLocation",
        "QtMultimedia",
        "QtMultimediaWidgets",
        "QtNetwork",
        "QtNetworkAuth",
        "QtNfc",
        "QtOpenGL",
        "QtOpenGLWidgets",
        "QtPdf",
        "QtPdfWidgets",
        "QtPositioning",
        "QtQml",
        "QtQuick",
        "QtQuick3D",
        "QtQuickControls2",
        "QtQuickTest",
        "QtQuickWidgets",
        "QtRemoteObjects",
        "QtScxml",
        "QtSensors",
        "QtSerialBus",
        "QtSerialPort",
        "QtSpatialAudio",
        "QtSql",
        "QtStateMachine",
        "QtSvgWidgets",
        "QtTest",
        "QtTextToSpeech",
        "QtUiTools",
        "QtWebChannel",
        "QtWebEngineCore",
        "QtWebEngineQuick",
        "QtWebEngineWidgets",
        "QtWebSockets",
        "QtWebView",
        "QtXml",
    )
)

_PLUGINS = r"pyside6/(qt/)?plugins/"
TRIM_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        # Qt's own translations: the product speaks English only.
        r"pyside6/(qt/)?translations/",
        # Mesa's software OpenGL (20 MB) for machines without a driver: widgets never use GL.
        r"(^|/)opengl32sw\.dll$",
        # Image formats: the product reads svg, ico and png (built into QtGui). qpdf would
        # also pull in Qt's whole PDF renderer.
        _PLUGINS + r"imageformats/(lib)?q(gif|icns|jpeg|pdf|tga|tiff|wbmp|webp)\.",
        # Libraries of unused modules that plugins would otherwise drag in.
        r"(^|/)(lib)?qt6(pdf|network|qml|qmlmodels|qmlmeta|qmlworkerscript|quick|opengl|"
        r"virtualkeyboard)[^/]*\.(dll|so[.0-9]*)$",
        _PLUGINS + r"(networkinformation|tls|platforminputcontexts|generic|qmltooling)/",
        _PLUGINS + r"platforms/(lib)?q(minimal|vnc|linuxfb|eglfs|minimalegl|direct2d|"
        r"vkkhrdisplay|wayland)",
        # Linux only (the stand-in build): Wayland, EGL devices, the GTK theme and CUPS drag
        # in GTK, Cairo, Kerberos and GnuTLS; offscreen and xcb are what the tests and a
        # developer use, and printing to PDF needs no print server.
        _PLUGINS + r"(wayland-[a-z-]+|egldeviceintegrations|xcbglintegrations)/",
        _PLUGINS + r"platformthemes/(lib)?qgtk3",
        _PLUGINS + r"printsupport/(lib)?cupsprintersupport",
        r"(^|/)libqt6(waylandclient|wlshellintegration|eglfs[a-z]*)[^/]*\.so",
    )
)


def keep(dest: str) -> bool:
    """Whether the file PyInstaller would place at ``dest`` (inside ``_internal``) stays."""
    path = dest.replace("\\", "/").lower()
    return not any(pattern.search(path) for pattern in TRIM_PATTERNS)
