#!/usr/bin/env python3
"""Lists import cycles between the files of each crate in the workspace.

A file `a.rs` depends on `b.rs` of the same crate when it names `crate::b` (or `super::b` from
inside a folder module's child). Cycles make a crate hard to read in any order; the README's
layout promises there are none. Exits 1 when it finds one.

    python3 scripts/import_cycles.py            # every crate
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules(src: Path):
    """Top-level module name -> the files that make it up."""
    mods = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src)
        top = rel.parts[0].removesuffix(".rs")
        if top in ("lib", "main", "bin"):
            continue
        mods.setdefault(top, []).append(f)
    return mods


def graph(src: Path):
    mods = modules(src)
    edges = {m: set() for m in mods}
    for m, files in mods.items():
        for f in files:
            text = f.read_text()
            text = re.sub(r"#\[cfg\(test\)\]\s*mod tests \{.*", "", text, flags=re.S)
            text = re.sub(r"//.*", "", text)  # comments and doc links are not imports
            for other in re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", text):
                if other in mods and other != m:
                    edges[m].add(other)
            if f.parent != src:  # a child of a folder module: super:: is its parent
                for other in re.findall(r"\bsuper::super::([a-z_][a-z0-9_]*)", text):
                    if other in mods and other != m:
                        edges[m].add(other)
    return edges


def cycles(edges):
    found, seen = [], set()
    def visit(node, path):
        for nxt in sorted(edges[node]):
            if nxt in path:
                cycle = path[path.index(nxt):] + [nxt]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append(cycle)
            elif len(path) < 12:
                visit(nxt, path + [nxt])
    for start in sorted(edges):
        visit(start, [start])
    return found


def main():
    bad = False
    for manifest in sorted(ROOT.glob("*/*/Cargo.toml")) + [ROOT / "tests/Cargo.toml", ROOT / "bench/Cargo.toml"]:
        src = manifest.parent / "src"
        if not src.is_dir():
            continue
        for cycle in cycles(graph(src)):
            bad = True
            print(f"{src.relative_to(ROOT)}: " + " -> ".join(cycle))
    if not bad:
        print("no import cycles between files")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
