"""The docs' Python snippets run: each page's ```python blocks in order, in one namespace, in a
temporary directory (the snippets write the files they read). The README's too. Every page of
docs/ is run, except blocks that start with ``# your files`` (they show how to read a user's own
files) or ``# needs the network`` (live sessions on exchanges); those are compiled, so they are at
least valid Python (no top-level ``await`` or ``async for``, say).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
MODULE = re.compile(r"\A# (\w+\.py)\n")  # a block that is a module file (e.g. "# myrisk.py")
SKIP = ("# your files", "# needs the network")  # compiled, not run

PAGES = sorted(p for p in DOCS.glob("*.md") if BLOCK.search(p.read_text(encoding="utf-8")))
# pages every block of which is skipped; any other page must run at least one
NOT_RUN = {"data-feeds.md", "sweep.md"}


def test_the_runnable_pages_have_snippets():
    names = {p.name for p in PAGES}
    assert {"quickstart.md", "strategies.md", "data-formats.md", "configuration.md", "seed-mapping.md",
            "portfolio.md", "execution.md"} <= names
    assert NOT_RUN <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_snippets_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # module blocks import like files beside a config
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    ran = 0
    for n, code in enumerate(blocks, 1):
        module = MODULE.match(code)
        if module:
            (tmp_path / module.group(1)).write_text(code, encoding="utf-8")
            monkeypatch.delitem(sys.modules, module.group(1)[:-3], raising=False)  # not one cached by another test
            continue
        try:
            compiled = compile(code, f"{page.name} block {n}", "exec")
        except SyntaxError as exc:
            pytest.fail(f"{page.name} block {n} is not valid Python: {exc}\n{code}")
        if code.startswith(SKIP):
            continue
        try:
            exec(compiled, namespace)
        except Exception as exc:
            pytest.fail(f"{page.name} block {n} raised {type(exc).__name__}: {exc}\n{code}")
        ran += 1
    assert ran >= (0 if page.name in NOT_RUN else 1), f"{page.name}: no block ran"


def test_readme_snippets_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_readme"}
    blocks = BLOCK.findall((DOCS.parent / "README.md").read_text(encoding="utf-8"))
    runnable = [(n, code) for n, code in enumerate(blocks, 1) if not code.startswith("# your files")]
    assert len(runnable) >= len(blocks) - 1 >= 5
    for n, code in runnable:
        try:
            exec(compile(code, f"README.md block {n}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"README.md block {n} raised {type(exc).__name__}: {exc}\n{code}")
