"""The served process's collector (app/heap.py): start-up's objects frozen, the young generation widened."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app import heap
from tests.app.support import ROOT, environment

PROBE = "import gc, json, app.asgi; print(json.dumps([gc.get_freeze_count(), gc.get_threshold()]))"


def test_the_process_uvicorn_imports_settles_its_heap(tmp_path: Path) -> None:
    """`app.asgi` is what `tessera serve` (and each of its workers) imports; the test process itself
    keeps CPython's defaults, or every app a test builds would be kept for good."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environment(f"sqlite://{tmp_path / 'heap.sqlite3'}"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    frozen, threshold = json.loads(done.stdout.strip().splitlines()[-1])
    assert frozen > 10_000  # the schema, the models and the modules at least
    assert threshold[:2] == [heap.YOUNG_GENERATION, heap.MIDDLE_GENERATION]
