"""The import graph of edgebench/: packages in layers, every import pointing down, no loop between packages.

Every ``import`` and ``from ... import`` statement counts, at the top of a module and nested inside functions
(a lazy import runs back up just as much), under ``if TYPE_CHECKING:`` too. A package is a folder under
edgebench/ (``config``, ``worker``) or a module at its top (``wire``, ``errors``); the package root
(``edgebench/__init__.py``, the version) is ``edgebench``. Imports inside one package are free. docs/architecture.md
explains the layers; a change to them is a change to both files.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Dict, List, NamedTuple, Sequence, Tuple

from tests.conftest import REPO

PACKAGE_DIR = REPO / "edgebench"

#: lowest first. A package imports only packages of lower layers: never one above (an arrow running back up),
#: never another of its own layer (those stay independent of each other).
LAYERS: Tuple[Tuple[str, ...], ...] = (
    ("edgebench", "errors"),  # the version; the error types every part raises
    ("wire", "record", "files", "digest", "optional", "plugins", "quantiles"),  # what crosses the wire, the typed
    # result record (what run.json holds: analysis, results and reporting all read it); small helpers
    ("backends", "sensors"),  # plugins that run on the device
    ("worker", "system"),  # the device half: what the agent runs
    ("optimise",),  # host: build a model's variants (quantised, fp16, pruned) with their tools
    ("config", "analysis"),  # host: parse suites and profiles; statistics of raw results
    ("transports", "results"),  # host: reach a device; the run directory
    ("harness", "reporting"),  # host: plan and drive a run; render runs
    ("cli", "pytest_plugin"),  # the front ends
    ("__main__",),  # python -m edgebench
)
#: the layers the agent zipapp may draw from (through ``worker``, everything it ships sits at or below it)
DEVICE_LAYERS = 4


class Import(NamedTuple):
    source: str  # the importing module, dotted
    target: str  # the imported module, dotted (``from a import b`` is ``a.b`` when b is a module)
    where: str  # edgebench/x/y.py:LINE
    statement: str  # the statement as written


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    root = PACKAGE_DIR.parent
    return (root / rel).with_suffix(".py").is_file() or (root / rel / "__init__.py").is_file()


def imports_of(path: Path) -> List[Import]:
    """Every edgebench import of one module, wherever in the module it is written."""
    source = module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(REPO).as_posix()
    found: List[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = source.split(".") if is_package else source.split(".")[:-1]
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            targets = list(dict.fromkeys(f"{module}.{alias.name}" if is_module(f"{module}.{alias.name}")
                                         else module for alias in node.names))
        else:
            continue
        statement = ast.unparse(node)
        found += [Import(source, target, f"{where}:{node.lineno}", statement)
                  for target in targets if target.split(".")[0] == "edgebench"]
    return found


@functools.cache
def all_imports() -> Tuple[Import, ...]:
    return tuple(found for path in sorted(PACKAGE_DIR.rglob("*.py")) if "_data" not in path.parts
            for found in imports_of(path))


def layer_problems(imports: Sequence[Import], layers: Sequence[Sequence[str]] = LAYERS) -> List[str]:
    """One line per import that runs back up the layers or sideways within one, naming the statement."""
    layer = {package: index for index, names in enumerate(layers) for package in names}
    problems = []
    for found in imports:
        source, target = package_of(found.source), package_of(found.target)
        if source == target:
            continue
        for package in (source, target):
            if package not in layer:
                problems.append(f"{found.where}: package {package!r} is in no layer: add it to LAYERS in "
                                f"tests/unit/test_layers.py and to docs/architecture.md")
        if source not in layer or target not in layer:
            continue
        if layer[target] > layer[source]:
            problems.append(f"{found.where}: `{found.statement}` runs back up: {source} (layer {layer[source]}) "
                            f"imports {target} (layer {layer[target]}); move what it needs down, or pass it in")
        elif layer[target] == layer[source]:
            problems.append(f"{found.where}: `{found.statement}`: {source} imports {target}, a package of its "
                            f"own layer ({layer[source]}); packages of one layer stay independent")
    return problems


def package_loops(imports: Sequence[Import]) -> List[str]:
    """Each loop between packages, as ``a -> b -> a`` with the import that makes each arrow."""
    arrows: Dict[str, Dict[str, Import]] = {}
    for found in imports:
        source, target = package_of(found.source), package_of(found.target)
        if source != target:
            arrows.setdefault(source, {}).setdefault(target, found)
    loops: List[str] = []
    done: set = set()

    def walk(path: List[str]) -> None:  # depth first; an arrow back into the current path closes a loop
        for target in sorted(arrows.get(path[-1], {})):
            if target in path:
                loop = path[path.index(target):] + [target]
                steps = "; ".join(f"{a} -> {b} at {arrows[a][b].where}" for a, b in zip(loop, loop[1:]))
                loops.append(f"package loop {' -> '.join(loop)} ({steps})")
            elif target not in done:
                walk(path + [target])
        done.add(path[-1])

    for start in sorted(arrows):
        if start not in done:
            walk([start])
    return loops


def test_every_package_is_in_exactly_one_layer() -> None:
    named = [package for names in LAYERS for package in names]
    assert len(named) == len(set(named)), "a package is named in two layers"
    on_disk = {package_of(module_name(path)) for path in PACKAGE_DIR.rglob("*.py") if "_data" not in path.parts}
    assert on_disk - set(named) == set(), "add these packages to LAYERS (and to docs/architecture.md)"
    assert set(named) - on_disk == set(), "LAYERS names packages that are gone"


def test_no_import_runs_back_up_the_layers() -> None:
    problems = layer_problems(all_imports())
    assert problems == [], "\n".join(problems)


def test_no_loop_between_packages() -> None:
    loops = package_loops(all_imports())
    assert loops == [], "\n".join(loops)


def test_the_graph_counts_nested_imports_and_resolves_names_to_modules() -> None:
    """The checks see lazy imports inside functions, relative imports, and ``from pkg import module``."""
    found = {(i.source, i.target) for i in all_imports()}
    assert ("edgebench.worker.main", "edgebench.worker.loadgen_scenario") in found  # inside a function
    assert ("edgebench.config.suite", "edgebench.plugins") in found  # from edgebench import plugins
    assert ("edgebench.transports.dask_farm", "edgebench.transports") in found  # nested: make_transport
    assert len(found) > 200


def test_a_back_up_import_and_a_loop_fail_naming_the_statement() -> None:
    """The checks can fail: the import that ran back up before this layout (dask_farm importing the runner)."""
    back_up = Import("edgebench.transports.dask_farm", "edgebench.harness.runner",
                     "edgebench/transports/dask_farm.py:151", "from edgebench.harness.runner import make_transport")
    down = Import("edgebench.harness.runner", "edgebench.transports.base", "edgebench/harness/runner.py:21",
                  "from edgebench.transports.base import Transport")
    [problem] = layer_problems([back_up, down])
    assert problem == ("edgebench/transports/dask_farm.py:151: `from edgebench.harness.runner import make_transport` "
                       "runs back up: transports (layer 6) imports harness (layer 7); move what it needs down, "
                       "or pass it in")
    [loop] = package_loops([back_up, down])
    assert loop.startswith("package loop harness -> transports -> harness (harness -> transports at "
                           "edgebench/harness/runner.py:21; transports -> harness at "
                           "edgebench/transports/dask_farm.py:151)")
    sideways = Import("edgebench.config.suite", "edgebench.analysis.stats", "edgebench/config/suite.py:1",
                      "from edgebench.analysis.stats import summarize")
    assert "a package of its own layer (5)" in layer_problems([sideways])[0]
    stranger = Import("edgebench.newthing.x", "edgebench.errors", "edgebench/newthing/x.py:3",
                      "import edgebench.errors")
    assert "package 'newthing' is in no layer" in layer_problems([stranger])[0]


def test_the_worker_imports_only_the_wire_and_device_parts() -> None:
    """What runs on a device: the wire objects, the small helpers beside them, backends and sensors."""
    allowed = {package for names in LAYERS[:3] for package in names} | {"worker"}
    outside = [f"{i.where}: `{i.statement}`" for i in all_imports()
               if package_of(i.source) == "worker" and package_of(i.target) not in allowed]
    assert outside == [], "the worker imports host-side code:\n" + "\n".join(outside)


def test_the_agent_bundle_carries_no_host_package() -> None:
    """The agent is built from the worker package; nothing host-side (no TOML parser, no downloader) rides along."""
    from edgebench.transports import agent_bundle

    modules, problems = agent_bundle.collect_modules()
    assert problems == []
    assert "edgebench.worker.main" in modules
    device = {package for names in LAYERS[:DEVICE_LAYERS] for package in names}
    host = sorted(name for name in modules if package_of(name) not in device)
    assert host == [], "the agent would carry host-side modules"
