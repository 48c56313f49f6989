"""The cache sits between the apps that write and read it: syncs (``integrations``) never import
``reports``, and ``lms_cache`` imports neither (a model names ``"integrations.Connection"`` as
a string; digests hear of merges through ``lms_cache.signals``). Function-level imports count."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((str(path.relative_to(ROOT)), node.module))
    return found


@pytest.mark.parametrize(
    "package,forbidden",
    [("integrations", ("reports",)), ("lms_cache", ("integrations", "reports"))],
)
def test_an_app_does_not_import_the_apps_on_the_other_side_of_the_cache(package, forbidden):
    assert _imports(package), f"{package} has modules to check"
    crossing = [(where, name) for where, name in _imports(package) if name.split(".")[0] in forbidden]
    assert crossing == []
