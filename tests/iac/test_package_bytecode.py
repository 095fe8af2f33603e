"""Function packages carry bytecode for their runtime, hash-based so packages are reproducible."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from modules.common.bytecode import compile_package, interpreter_for, runtime_version
from modules.common.package import code_files, staged_code

THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


def _pyc_flags(pyc: Path) -> int:
    # PEP 552 header: magic (4 bytes), then a flags word: bit 0 hash-based, bit 1 check_source.
    return int.from_bytes(pyc.read_bytes()[4:8], "little")


def test_runtime_version_and_this_interpreter() -> None:
    assert runtime_version("python3.12") == "3.12"
    assert interpreter_for(runtime_version(THIS_RUNTIME)) == sys.executable
    assert interpreter_for("2.1") is None


def test_compiled_package_is_unchecked_hash_bytecode(tmp_path: Path) -> None:
    module = tmp_path / "pkg" / "mod.py"
    module.parent.mkdir()
    module.write_text("VALUE = 41 + 1\n")
    assert compile_package(tmp_path, THIS_RUNTIME)
    pyc = Path(importlib.util.cache_from_source(str(module)))
    assert pyc.is_file()
    assert _pyc_flags(pyc) == 0b01  # hash-based, source not checked: no timestamps inside


def test_no_interpreter_for_the_runtime_leaves_sources_only(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("X = 1\n")
    assert compile_package(tmp_path, "python2.1") is False
    assert not list(tmp_path.rglob("*.pyc"))


def test_staged_code_is_content_addressed_and_compiled() -> None:
    root = Path(__file__).resolve().parents[2]
    folders = [root / "handlers"]
    first = staged_code(folders, THIS_RUNTIME, "test-function-code")
    assert staged_code(folders, THIS_RUNTIME, "test-function-code") == first
    assert (first / "handlers" / "app.py").read_bytes() == (
        root / "handlers" / "app.py"
    ).read_bytes()
    assert Path(importlib.util.cache_from_source(str(first / "handlers" / "app.py"))).is_file()
    assert {inside for _, inside in code_files(folders)} == {
        p.relative_to(first) for p in first.rglob("*") if p.suffix == ".py"
    }


def _package_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_sources_compile_to_identical_bytes_in_any_folder(tmp_path: Path) -> None:
    """Two checkouts (two staging folders) give byte-identical packages (issue 16).

    The module holds a set constant, whose order follows the string hash seed, and a
    function, whose code object records the file's path.
    """
    source = 'def check(x):\n    return x in {"alpha", "beta", "gamma", "delta"}\n'
    packages = []
    for checkout in ("first-checkout", "second/checkout-elsewhere"):
        module = tmp_path / checkout / "pkg" / "mod.py"
        module.parent.mkdir(parents=True)
        module.write_text(source)
        assert compile_package(tmp_path / checkout, THIS_RUNTIME)
        packages.append(_package_bytes(tmp_path / checkout))
    first, second = packages
    assert any(name.endswith(".pyc") for name in first)
    assert first == second
    pyc = next(data for name, data in first.items() if name.endswith(".pyc"))
    assert str(tmp_path).encode() not in pyc
