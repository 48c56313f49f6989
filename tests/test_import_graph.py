"""No two modules of the project import each other, directly or through others.

``lint-imports`` (scripts/test, contracts in pyproject.toml) checks the layers between apps;
this checks every module against every other, imports inside functions included. Imports
under ``TYPE_CHECKING`` are left out: they do not run.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ("integrations", "reports", "lms_cache", "sandbox", "tabular", "lms_admin")


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Groups of two or more modules that reach one another (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def test_the_cycle_finder_finds_a_cycle_through_three_modules():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(edges) == [{"a", "b", "c"}]


@pytest.mark.timeout(120)
def test_no_module_of_the_project_imports_itself_through_others():
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    edges = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    assert len(edges) > 200, "the whole project was read"
    assert strongly_connected(edges) == []
