"""The core (telemetry, ingest, store, render) must never import Textual."""

from __future__ import annotations

import subprocess
import sys

CORE_PACKAGES = [
    "f1dash_tui.telemetry",
    "f1dash_tui.ingest",
    "f1dash_tui.store",
    "f1dash_tui.render",
]


def test_core_imports_no_textual() -> None:
    # A fresh interpreter: importing every core module must not pull in textual.
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {CORE_PACKAGES!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for mod in pkgutil.walk_packages(pkg.__path__, name + '.'):\n"
        "        importlib.import_module(mod.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"
