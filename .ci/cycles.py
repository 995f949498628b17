#!/usr/bin/env python3
""".ci/cycles.py BUILD_DIR: loops of calls between the project's own object files
in a built tree (for example `python3 .ci/cycles.py build`), read
from `nm` (A -> B when A uses a symbol that B defines). Prints each loop found
(strongly connected component of more than one file), and exits 1 when there
is one. Unit-test, bench, fuzz and compat objects are left out; so are
references to `*_entry` symbols (a command table, as tmux's cmd_entry)."""
import subprocess, sys, os, glob

objs = [o for o in glob.glob(os.path.join(sys.argv[1], "**", "*.o"), recursive=True)
        if "/tests/" not in o and "/bench/" not in o and "/compat/" not in o
        and not os.path.basename(o).startswith(("test-", "fuzz"))]
defs, uses = {}, {}
for o in objs:
    out = subprocess.run(["nm", o], capture_output=True, text=True).stdout
    name = os.path.relpath(o, sys.argv[1])
    uses[name] = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBR":
            defs.setdefault(parts[2], name)
        elif len(parts) == 2 and parts[0] == "U":
            uses[name].add(parts[1])
# The command table (tmux's cmd_entry pattern) names every command's entry:
# a registry, not a call; those references are left out.
graph = {a: {defs[s] for s in us if s in defs and defs[s] != a and not s.endswith("_entry")}
         for a, us in uses.items()}
# Tarjan
index, low, stack, on, comps, i = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in graph[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop(); on.discard(w); c.append(w)
            if w == v: break
        if len(c) > 1: comps.append(sorted(c))
sys.setrecursionlimit(10000)
for v in graph:
    if v not in index: strong(v)
for c in comps:
    print("loop of calls: " + " <-> ".join(c))
print(f"{len(objs)} objects, {len(comps)} loops")
sys.exit(1 if comps else 0)
