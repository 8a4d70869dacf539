"""module_hash: editing a module changes its hash and only its hash."""

from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path

import pytest

from prefscope.codehash import (
    PLUMBING,
    _index,
    _is_module,
    closure_hash,
    import_closure,
    module_hash,
    script_hash,
    source_files,
)


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


# ------------------------------------------------------------------ import closures (issue 13)
SCRIPTS = Path(__file__).resolve().parents[2] / "workflow" / "scripts"


@pytest.fixture
def closure_pkg(pkg):
    """``pkg`` with a stage module whose two functions use different helpers."""
    name, root = pkg
    (root / "stages.py").write_text(
        "import logging\n"
        f"from {name}.alpha import A\n"
        f"log = logging.getLogger('{name}.unused')\n"
        "def first(x):\n"
        f"    from {name}.sub.beta import B\n"
        "    return helper(x) + B\n"
        "def helper(x):\n"
        "    return x + A\n"
        "def second(x):\n"
        f"    from {name}.unused import U\n"
        "    return U\n"
        f"TABLE = {{'b': '{name}.dyn'}}\n"
        "def third():\n"
        "    return TABLE\n"
    )
    (root / "unused.py").write_text("U = 0\n")
    (root / "dyn.py").write_text("D = 0\n")
    importlib.invalidate_caches()
    _index.cache_clear()
    _is_module.cache_clear()
    yield name, root
    _index.cache_clear()
    _is_module.cache_clear()


def test_closure_follows_names_lazy_imports_and_module_strings(closure_pkg, tmp_path):
    name, _ = closure_pkg
    script = tmp_path / "run_first.py"
    script.write_text(f"from {name}.stages import first\nfirst(1)\n")
    assert import_closure(files=(script,), package=name) == [
        f"{name}.alpha",
        f"{name}.stages",
        f"{name}.sub.beta",
    ]  # helper -> alpha (module-level import), lazy sub.beta; not `second`'s unused, not a logger
    third = tmp_path / "run_third.py"
    third.write_text(f"from {name}.stages import third\n")
    assert f"{name}.dyn" in import_closure(files=(third,), package=name)


def test_closure_hash_changes_with_the_modules_it_covers_only(closure_pkg, tmp_path):
    name, root = closure_pkg
    script = tmp_path / "run_first.py"
    script.write_text(f"from {name}.stages import first\n")
    before = closure_hash(files=(script,), package=name)
    (root / "unused.py").write_text("U = 1\n")
    assert closure_hash(files=(script,), package=name) == before
    (root / "sub" / "beta.py").write_text("B = 5\n")
    assert closure_hash(files=(script,), package=name) != before


@pytest.mark.parametrize(
    ("script", "needed"),
    [
        # the modules the hand-written lists missed (issue 13)
        ("lfp_validate.py", {"prefscope.lfp.lexicon", "prefscope.lfp.harvest.activations"}),
        ("lfp_harvest.py", {"prefscope.lfp.finetune.preferences"}),
        ("explain.py", {"prefscope.llm.backends.openai", "prefscope.interpret.lexical"}),
    ],
)
def test_rule_scripts_reach_the_modules_they_use(script, needed):
    closure = set(import_closure(files=(SCRIPTS / script,)))
    assert needed <= closure
    assert not closure & PLUMBING


def test_one_stage_module_ties_each_rule_to_its_own_stage():
    corpus = set(import_closure(files=(SCRIPTS / "lfp_corpus.py",)))
    train = set(import_closure(files=(SCRIPTS / "lfp_rlhf.py",)))
    assert "prefscope.lfp.finetune.corpus" in corpus and "prefscope.lfp.finetune.dpo" not in corpus
    assert {"prefscope.lfp.finetune.dpo", "prefscope.lfp.finetune.rl"} <= train
    assert script_hash(SCRIPTS / "lfp_corpus.py") != script_hash(SCRIPTS / "lfp_rlhf.py")


def test_probing_names_imports_nothing():
    """Looking up ``prefscope.sae.stage.train_sae`` (a function) must not import the stage
    (and torch with it): every workflow parse and every cluster job does such lookups."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from prefscope.codehash import import_closure\n"
        "closure = import_closure(files=['workflow/scripts/train_sae.py'])\n"
        "assert 'prefscope.sae.stage' in closure, closure\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('torch', 'prefscope.sae')))\n"
        "assert loaded == [], loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=SCRIPTS.parents[1], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
