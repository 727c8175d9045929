"""The split between core/ (no Qt) and app/ (Qt views) holds."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parents[1]


def all_core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))


def test_core_imports_no_qt():
    """Importing every module of core/ loads neither PySide6 nor pyqtgraph."""
    modules = all_core_modules()
    assert "core.music.score" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'app'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"core/ pulled in Qt or the app: {result.stdout}"


def test_core_modules_live_in_packages_that_name_their_layer():
    """Only what every layer shares sits at the top of core/ (its errors, NumPy's BLAS thread count);
    the rest is in a package."""
    loose = sorted(path.name for path in (ROOT / "core").glob("*.py") if path.name != "__init__.py")
    assert loose == ["blas.py", "errors.py"]


def test_core_sources_never_name_qt():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "core").rglob("*.py")
        if any(
            line.lstrip().startswith(("import PySide6", "from PySide6", "import pyqtgraph", "from pyqtgraph"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []
