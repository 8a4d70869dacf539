"""module_hash: editing a module changes its hash and only its hash."""

from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path

import pytest

from prefscope.codehash import module_hash, source_files


@pytest.fixture
def pkg(tmp_path, monkeypatch):
    """A throwaway package `hashpkg_<n>` with a submodule, a subpackage and a data file."""
    name = f"hashpkg_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / name
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "alpha.py").write_text("A = 1\n")
    (root / "sub" / "__init__.py").write_text("")
    (root / "sub" / "beta.py").write_text("B = 2\n")
    (root / "sub" / "prompt.txt").write_text("describe the feature\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "alpha.cpython-311.pyc").write_bytes(b"junk")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield name, root
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[mod]


def test_plain_module_hash_is_sha256_of_name_and_bytes(pkg):
    name, _ = pkg
    data = b"A = 1\n"
    full = hashlib.sha256(
        f"{name}.alpha\0alpha.py\0".encode() + len(data).to_bytes(8, "little") + data
    ).hexdigest()
    assert module_hash(f"{name}.alpha") == full[:16]
    assert module_hash(f"{name}.alpha", length=40) == full[:40]


def test_package_covers_subpackages_and_data_but_not_bytecode(pkg):
    name, _ = pkg
    files = [rel for rel, _ in source_files(name)]
    assert files == ["__init__.py", "alpha.py", "sub/__init__.py", "sub/beta.py", "sub/prompt.txt"]


def test_edit_changes_only_the_hashes_that_cover_it(pkg):
    name, root = pkg
    before = {m: module_hash(f"{name}.{m}") for m in ("alpha", "sub", "sub.beta")}
    whole = module_hash(name)
    (root / "sub" / "beta.py").write_text("B = 3\n")
    after = {m: module_hash(f"{name}.{m}") for m in ("alpha", "sub", "sub.beta")}
    assert after["alpha"] == before["alpha"]
    assert after["sub"] != before["sub"]
    assert after["sub.beta"] != before["sub.beta"]
    assert module_hash(name) != whole
    (root / "sub" / "prompt.txt").write_text("describe it\n")
    assert module_hash(f"{name}.sub") != after["sub"]


def test_renaming_a_file_changes_the_hash(pkg):
    name, root = pkg
    before = module_hash(f"{name}.sub")
    (root / "sub" / "beta.py").rename(root / "sub" / "gamma.py")
    assert module_hash(f"{name}.sub") != before


def test_order_and_duplicates_do_not_matter(pkg):
    name, _ = pkg
    a, b = f"{name}.alpha", f"{name}.sub"
    assert module_hash(a, b) == module_hash(b, a) == module_hash(b, a, a)
    assert module_hash(a, b) != module_hash(a)


def test_unknown_module_and_empty_call_fail_loudly(pkg):
    name, _ = pkg
    with pytest.raises(ModuleNotFoundError, match="nope"):
        module_hash(f"{name}.nope")
    with pytest.raises(ValueError):
        module_hash()


def test_project_modules_resolve_to_the_imported_package():
    import prefscope

    files = dict(source_files("prefscope.codehash"))
    assert files == {"codehash.py": Path(prefscope.__file__).parent / "codehash.py"}


def test_namespace_package_without_init_is_hashed(pkg):
    name, root = pkg
    (root / "ns").mkdir()
    (root / "ns" / "gamma.py").write_text("G = 1\n")
    importlib.invalidate_caches()
    assert [rel for rel, _ in source_files(f"{name}.ns")] == ["gamma.py"]
    before = module_hash(f"{name}.ns")
    (root / "ns" / "gamma.py").write_text("G = 2\n")
    assert module_hash(f"{name}.ns") != before
