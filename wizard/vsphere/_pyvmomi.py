"""The one import of pyVmomi, typed as ``Any``: its dynamic types stop at this line.

pyVmomi builds its classes at run time from type tables, so mypy sees untyped calls everywhere.
Every module of this package imports ``vim``, ``vmodl`` and the stub from here instead, and
converts what it reads into frozen dataclasses before anything leaves the package.
"""

from __future__ import annotations

from typing import Any

from pyVmomi import SoapAdapter as _SoapAdapter
from pyVmomi import VmomiSupport as _VmomiSupport
from pyVmomi import vim as _vim
from pyVmomi import vmodl as _vmodl
from pyVmomi.SoapAdapter import SoapStubAdapter as _SoapStubAdapter

vim: Any = _vim
vmodl: Any = _vmodl
SoapStubAdapter: Any = _SoapStubAdapter
SoapAdapter: Any = _SoapAdapter
"""The SOAP module itself, for the lean bulk reader in ``collector.py``."""
VmomiSupport: Any = _VmomiSupport
PC: Any = _vmodl.query.PropertyCollector
"""``vmodl.query.PropertyCollector``, whose nested types build filter specs."""
