#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""layers.py SRC_DIR OBJS_ARCHIVE [NM] - check the layering of src/.

doc/architecture.md draws src/ as layers: core, then reclaim, then the
modules (map, slice, pool, value.c, once.c), each depending only on the
layers below it and on itself.  This check reads two kinds of arrow:

  includes  every #include "dir/file.h" of every source and header;
  calls     from each object of OBJS_ARCHIVE (the library's objects,
            src/libgoconc_objs.a) to the object defining a symbol it
            leaves undefined (nm), i.e. direct calls and data references.

and fails on (1) an arrow into a higher layer or into another module, and
(2) a cycle of call arrows between files (hooks registered at run time,
the one sanctioned way for a lower layer to reach a higher one, are not
arrows).  It prints each file's arrows with -v.
"""
import collections
import os
import re
import subprocess
import sys

RANK = {"core": 0, "reclaim": 1}  # every other folder or file: a module (2)


def layer(rel):
    """'map/table.c' -> 'map'; 'value.c' -> 'value'."""
    head = rel.split("/", 1)[0]
    return head if "/" in rel else os.path.splitext(head)[0]


def rank(rel):
    return RANK.get(layer(rel), 2)


def allowed(src, dst):
    if layer(src) == layer(dst):
        return True
    return rank(dst) < rank(src)


def sources(src_dir):
    out = []
    for root, _, files in os.walk(src_dir):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(root, f), src_dir))
    return sorted(out)


def include_arrows(src_dir, files):
    pat = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    arrows = []
    for f in files:
        with open(os.path.join(src_dir, f)) as fh:
            for inc in pat.findall(fh.read()):
                if inc in files and inc != f:
                    arrows.append((f, inc))
    return arrows


def call_arrows(archive, files, nm):
    # Members are named after their source with '/' flattened to '_'.
    by_member = {f.replace("/", "_") + ".o": f for f in files if f.endswith(".c")}
    out = subprocess.run([nm, "-A", archive], check=True,
                         capture_output=True, text=True).stdout
    defined, undefined = {}, collections.defaultdict(set)
    for line in out.splitlines():
        m = re.match(r"^[^:]+:([^:]+):\s*(?:[0-9a-f]+)?\s+(\w)\s+(\S+)$", line)
        if not m:
            continue
        member = os.path.basename(m.group(1))
        if member not in by_member:
            sys.exit(f"layers.py: object {member} has no source in src/")
        kind, sym = m.group(2), m.group(3)
        if kind == "U":
            undefined[by_member[member]].add(sym)
        elif kind.isupper():
            defined[sym] = by_member[member]
    arrows = set()
    for f, syms in undefined.items():
        for s in syms:
            if s in defined and defined[s] != f:
                arrows.add((f, defined[s]))
    return sorted(arrows)


def cycles(arrows):
    graph = collections.defaultdict(set)
    for a, b in arrows:
        graph[a].add(b)
    found, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return found


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv[1:]
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    src_dir, archive = args[0], args[1]
    nm = args[2] if len(args) == 3 else "nm"
    files = sources(src_dir)
    inc = include_arrows(src_dir, files)
    calls = call_arrows(archive, files, nm)
    bad = 0
    for kind, arrows in (("include", inc), ("call", calls)):
        for a, b in arrows:
            if verbose:
                print(f"{kind:7} {a} -> {b}")
            if not allowed(a, b):
                print(f"layers: {kind} {a} -> {b} runs up a layer or across modules")
                bad += 1
    for c in cycles(calls):
        print("layers: call cycle " + " -> ".join(c))
        bad += 1
    print(f"layers: {len(files)} files, {len(inc)} include and {len(calls)} call arrows, "
          f"{bad} problem(s)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
