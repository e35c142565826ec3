"""Estimate the Windows installer's size on Linux, where the Windows folder cannot be frozen.

Usage::

    .venv/bin/python packaging/estimate_windows.py WHEELS_DIR LINUX_FOLDER LAB_EXE OUT_TAR_XZ

The Windows folder is approximated by:

- from the locked Windows wheels (``pip download`` of packaging/windows/requirements-win.txt):
  what PyInstaller collects of PySide6 and shiboken6 for the Qt modules the product uses (their
  ``.pyd`` and Qt DLLs, the plugin folders of QtGui, QtSvg and QtPrintSupport, the translations
  and ``opengl32sw.dll``, the MSVC runtime), then trimmed by packaging/trim.py like the spec;
  and the compiled core of ``cryptography`` with the cffi backend it loads;
- from the Linux folder, the parts whose Windows counterparts are about the same size: both
  executables (bootloader and the compressed Python modules), ``base_library.zip``, the
  standard library's extension modules, the Python library and OpenSSL (``python311.dll`` and
  ``libcrypto-3.dll`` on Windows), the product's resources and package metadata;
- the cross-compiled ``checkpoint-lab.exe``.

It is packed as one tar and compressed with solid LZMA (preset 9, extreme: a 64 MiB
dictionary, as the installer script asks of NSIS). The result is printed in bytes on the last
line. It leaves out NSIS's own stub and uninstaller (about 0.1 MB) and Linux-only weight (ICU,
system libraries).
"""

from __future__ import annotations

import io
import lzma
import re
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import trim

# Plugin folders PyInstaller's hooks collect for QtGui, QtSvg and QtPrintSupport on Windows.
_PLUGIN_TYPES = (
    "accessible|generic|iconengines|imageformats|platforminputcontexts|platforms|"
    "platformthemes|printsupport|styles"
)
_QT = "|".join(name.removeprefix("Qt") for name in trim.QT_MODULES_USED)
_WHEEL_KEEP = re.compile(
    rf"^(PySide6/(Qt({_QT})\.pyd|Qt6({_QT})\.dll|pyside6\.abi3\.dll|opengl32sw\.dll"
    rf"|plugins/({_PLUGIN_TYPES})/[^/]+\.dll|translations/qt(base)?_[^/]+\.qm)"
    r"|shiboken6/(shiboken6\.abi3\.dll|Shiboken\.pyd)"
    r"|(PySide6|shiboken6)/(msvcp140(_1|_2)?|vcruntime140(_1)?)\.dll"
    # cryptography's compiled core and the cffi backend it loads (their Python modules are in
    # the executables' archive, counted from the Linux folder).
    r"|cryptography/hazmat/bindings/_rust\.pyd|_cffi_backend\.[^/]+\.pyd)$"
)
_LINUX_KEEP = re.compile(
    r"^(checkpoint-wizard|checkpoint-wizard-cli"
    r"|_internal/(base_library\.zip|python3\.\d+/lib-dynload/[^/]+|libpython3\.\d+\.so[.0-9]*"
    r"|libcrypto\.so[.0-9]*|libssl\.so[.0-9]*|resources/.+|[^/]+\.dist-info/.+))$"
)


def wheel_members(wheels: Path) -> Iterator[tuple[str, bytes]]:
    seen: set[str] = set()
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                # The MSVC runtime is in both wheels; PyInstaller collects it once.
                base = name.rsplit("/", 1)[-1].lower()
                if not _WHEEL_KEEP.match(name) or not trim.keep(name):
                    continue
                if base.startswith(("msvcp", "vcruntime")) and base in seen:
                    continue
                seen.add(base)
                yield name, archive.read(name)


def linux_members(folder: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and _LINUX_KEEP.match(relative):
            yield relative, path.read_bytes()


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        sys.stderr.write(__doc__ or "")
        return 2
    wheels, folder, lab, out = (Path(a) for a in argv)
    members = [
        *((f"_internal/{n}", d) for n, d in wheel_members(wheels)),
        *linux_members(folder),
        ("checkpoint-lab.exe", lab.read_bytes()),
    ]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    unpacked = sum(len(d) for _, d in members)
    packed = lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(packed)
    sys.stdout.write(f"estimate: {len(members)} files, {unpacked} bytes unpacked\n")
    sys.stdout.write(f"{len(packed)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
