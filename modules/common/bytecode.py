"""Bytecode for a function package, compiled for the function's Python runtime.

A function's code directory is read-only on Lambda (and its cache lost with
every instance on Azure and GCP), so Python compiles every statekit and handler
module from source on every cold start unless the package carries its
``__pycache__``. Compiling them costs about 25 ms of the measured cold start
(benchmarks/cold_start.py), and the vendored redis client more when the cache is
used.

A ``.pyc`` is specific to one Python minor version, so the packager compiles
with an interpreter of the runtime's version (``python3.12`` for the
``python3.12`` runtime): this one if it matches, else one found on ``PATH`` or
under pyenv. Without one the package ships sources only, which still works,
just with the slower cold start. The files are hash-based and unchecked
(PEP 552): no source timestamps in the archive, so the same sources give the
same package, and the runtime trusts them without stat-ing every source.

Two more inputs would otherwise leak into the bytes: the folder compiled in
(each code object records its file's path, and the package is staged in a
random scratch folder of the checkout), so the path is recorded relative to the
package root (``compileall -s``; at import Python replaces it with the real
path anyway); and the string hash seed, which orders the elements of
``frozenset`` constants (``x in {"a", "b"}``), so it is fixed
(``PYTHONHASHSEED=0``). The same sources then give byte-identical packages in
every checkout, and the asset hash changes only when the code does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path


def runtime_version(runtime: str) -> str:
    """``"python3.12"`` -> ``"3.12"``."""
    return runtime.removeprefix("python")


def _works(executable: str, version: str) -> bool:
    probe = subprocess.run(
        [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() == version


@cache
def interpreter_for(version: str) -> str | None:
    """A Python executable of ``version`` (``"3.12"``), or None when there is none here."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(
        str(p) for p in pyenv_root.glob(f"versions/{version}.*/bin/python{version}")
    )
    # A pyenv shim exists for every installed version but fails unless that version is
    # selected, so each candidate is asked for its version before it is trusted.
    return next((c for c in candidates if c and _works(c, version)), None)


def compile_package(folder: Path, runtime: str) -> bool:
    """Write ``__pycache__`` for every module under ``folder``; False when no interpreter fits."""
    executable = interpreter_for(runtime_version(runtime))
    if executable is None:
        return False
    subprocess.run(
        [
            executable,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(folder),
            str(folder),
        ],
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "", "PYTHONHASHSEED": "0"},
    )
    return True
