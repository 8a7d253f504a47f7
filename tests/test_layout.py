"""The layout's rules, checked: one package per capability, pure rules, imports one way.

- ``rules/`` packages (``summit/core/rules`` and each part's) import only the standard library,
  third-party packages, their own package, ``summit.core.errors``, the shared pure rules in
  ``summit.core.rules`` and gettext (``summit.core.i18n``, to mark messages where they are
  written).
- A part (``summit/<part>/``) uses another part only through that part's public names (the
  ``__all__`` of ``summit/<part>/__init__.py``) or its tables (``summit.<part>.models``).
- ``summit/core/`` imports no part; ``clustering/`` imports nothing from ``summit/``.
- Command modules never import ``summit.cli`` (``cli`` adds them, not the other way round).
- No file under ``tests/`` imports a test module or ``conftest``: what test modules share lives
  in ``tests/support/`` (helpers) and ``tests/conftest.py`` (fixtures).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUMMIT = ROOT / "summit"
PARTS = sorted(
    p.name
    for p in SUMMIT.iterdir()
    if p.is_dir()
    and (p / "__init__.py").exists()
    and p.name not in {"core", "media", "migrations"}
)


def _imports(path: Path, package: str | None = None) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module, names) for every import in a file, relative ones made absolute (against
    ``package``, by default the file's own)."""
    if package is None:
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            yield node.lineno, module, [a.name for a in node.names]


def _modules(names: list[str], module: str) -> list[str]:
    """``from a.b import c`` may name the module ``a.b.c``: list both readings."""
    return [module, *(f"{module}.{n}" for n in names)]


def _public(part: str) -> set[str]:
    tree = ast.parse((SUMMIT / part / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return set()


def test_the_parts_are_the_capabilities() -> None:
    assert set(PARTS) >= {"lottery", "seating", "video", "ideas", "programme", "council"}
    for part in PARTS:
        folder = SUMMIT / part
        assert (folder / "views.py").exists() or (folder / "views").is_dir(), part


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize(
    "folder",
    [
        SUMMIT / "core" / "rules",
        *(SUMMIT / p / "rules" for p in PARTS if (SUMMIT / p / "rules").is_dir()),
    ],
    ids=lambda f: str(f.relative_to(ROOT)),
)
def test_rules_are_pure(folder: Path) -> None:
    own = ".".join(folder.relative_to(ROOT).parts)
    # gettext is the one exception: messages are marked where they are written.
    allowed = (own, "summit.core.errors", "summit.core.rules", "summit.core.i18n")
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in _python_files(folder)
        for line, module, _names in _imports(path)
        if module.startswith("summit") and not module.startswith(allowed)
    ]
    assert offenders == []


def test_parts_use_each_other_through_public_names_or_tables() -> None:
    offenders = []
    for part in PARTS:
        for path in _python_files(SUMMIT / part):
            for line, module, names in _imports(path):
                segments = module.split(".")
                if len(segments) < 2 or segments[0] != "summit" or segments[1] not in PARTS:
                    continue
                other = segments[1]
                if other == part:
                    continue
                where = f"{path.relative_to(ROOT)}:{line}: {module}"
                if len(segments) == 2:
                    unknown = set(names) - _public(other)
                    if unknown:
                        offenders.append(f"{where} {sorted(unknown)} not in __all__")
                elif segments[2] not in {"models"}:
                    offenders.append(where)
    assert offenders == []


def test_core_imports_no_part_and_clustering_imports_nothing_of_summit() -> None:
    offenders = []
    for path in _python_files(SUMMIT / "core"):
        for line, module, _names in _imports(path):
            segments = module.split(".")
            if len(segments) > 1 and segments[0] == "summit" and segments[1] in PARTS:
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    for path in _python_files(ROOT / "clustering"):
        for line, module, _names in _imports(path):
            if module == "summit" or module.startswith("summit."):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    assert offenders == []


def test_commands_do_not_import_the_cli() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files(SUMMIT)
        if path.name == "commands.py" or path.parent.name == "commands"
        for line, module, names in _imports(path)
        if "summit.cli" in _modules(names, module) or module == "summit.cli"
    ]
    assert offenders == []


def test_architecture_names_only_paths_that_exist() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:summit|clustering|web|tests|scripts)/[\w./-]*)`", text))
    assert len(named) > 20
    missing = sorted(p for p in named if not (ROOT / p.rstrip("/")).exists())
    assert missing == []


#: ``tests.test_x``, ``test_x`` (pytest puts ``tests/`` on the path), ``conftest``, and below them.
TEST_MODULE = re.compile(r"^(tests\.)?(test_\w+|conftest)(\.|$)")


def _imports_a_test_module(module: str, names: list[str]) -> bool:
    return any(TEST_MODULE.match(name) for name in _modules(names, module))


def test_no_test_module_imports_another_test_module_or_conftest() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {module} {names}"
        for path in _python_files(ROOT / "tests")
        for line, module, names in _imports(path)
        if _imports_a_test_module(module, names)
    ]
    assert offenders == [], "shared helpers belong in tests/support/, fixtures in conftest.py"


def test_the_test_import_check_sees_every_spelling(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "from tests.test_http import login\n"
        "from tests import test_ideas_capture as capture\n"
        "import tests.test_cli\n"
        "import test_lottery\n"
        "from tests.conftest import Client\n"
        "from . import test_forum\n"
        "from conftest import make_settings\n"
        "from tests.support.http import login\n"
        "import tests.support.app\n"
        "from tests import support\n"
        "from summit.core import test_mode\n"
    )
    found = [
        line
        for line, module, names in _imports(sample, package="tests")
        if _imports_a_test_module(module, names)
    ]
    assert found == [1, 2, 3, 4, 5, 6, 7]


def test_every_test_module_that_uses_redis_runs_on_the_redis_worker() -> None:
    """Redis's pub/sub channels are global across its databases, so two test workers using
    Redis at once could hear each other: such modules are listed in ``SHARES_REDIS``
    (tests/conftest.py) and run on one worker."""
    conftest = (ROOT / "tests" / "conftest.py").read_text()
    listed = set(re.findall(r'"(test_\w+)"', conftest.split("SHARES_REDIS", 1)[1].split("def ")[0]))
    using = {
        path.stem
        for path in (ROOT / "tests").glob("test_*.py")
        if path.stem != "test_layout"
        and re.search(r"\bREDIS_URL\b|SUMMIT_TEST_REDIS_URL", path.read_text())
    }
    assert using - listed == set(), "add these to SHARES_REDIS in tests/conftest.py"
