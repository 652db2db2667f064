"""The package type-checks (STYLE.md: type hints everywhere, checked by mypy against the .pyi stubs)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "barter"


def test_mypy_is_clean():
    if shutil.which("mypy") is None and subprocess.run([sys.executable, "-m", "mypy", "--version"],
                                                       capture_output=True).returncode:
        pytest.skip("mypy is not installed (it is in the test extra)")
    out = subprocess.run([sys.executable, "-m", "mypy", str(SRC)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_compiled_module_has_a_stub():
    for pyx in (SRC / "_core").glob("*.pyx"):
        assert pyx.with_suffix(".pyi").is_file(), f"{pyx.name} has no .pyi stub"
