"""Count the import cycles between the modules of a package (default ``hub``), with grimp.

Run from the repository root: ``.venv/bin/python tools/import_cycles.py [PACKAGE]``. A *cycle* here is a
strongly connected component of two or more modules in the module-level import graph (every import
counts, ``TYPE_CHECKING`` ones and imports inside functions included, as import-linter sees them); the
output is the count, then each cycle's modules. Exits 0 with no cycle, 1 otherwise.

``lint-imports`` (contract ``hub-acyclic``) is what CI enforces; this is the figure for a closing note,
comparable before and after a change because it counts modules, not packages.
"""

from __future__ import annotations

import sys

import grimp


def cycles(package: str) -> list[list[str]]:
    """Every strongly connected component of two or more modules of ``package``, each sorted."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = {
        m: sorted(w for w in graph.find_modules_directly_imported_by(m) if w in graph.modules)
        for m in graph.modules
    }
    # Tarjan's algorithm, iterative: the import graph is deep enough to hit Python's recursion limit.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                child = edges[node][i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(found)


def main(argv: list[str]) -> int:
    package = argv[0] if argv else "hub"
    found = cycles(package)
    print(f"{len(found)} import cycle(s) in {package}")
    for component in found:
        print("  " + " <-> ".join(component))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
