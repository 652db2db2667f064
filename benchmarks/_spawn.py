"""Shared by the benchmark scripts: run one case in a fresh process of the script (so its peak RSS
is its own) and read the JSON line it prints last."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Optional


def spawn_case(script: str, label: str, *args: str) -> Optional[dict[str, Any]]:
    """``python script *args``'s last stdout line as JSON, or None (reported on stderr) on failure."""
    proc = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        sys.stderr.write(f"{label} failed (exit {proc.returncode}):\n{proc.stderr}\n")
        return None
    return json.loads(lines[-1])
