#!/usr/bin/env python3
""".ci/layers.py BUILD_DIR: no file of src/ includes or calls a floor above
its own (for example `python3 .ci/layers.py build`).

The floors are those of doc/architecture.md, read from its sections
("### main", "### commands", "### wiring", "### stream layer", "### net
layer", "### utilities"): each file named there in backquotes belongs to
the section's floor. From the top: main, commands, wiring, stream, net,
utilities. A file may include a header of its own floor or below, and call
a function (or use data) defined on its own floor or below; calls within a
floor go either way (a floor is one module group, as proxy.c and its
handshake files are).

Two checks:
  - includes: every `#include "..."` of src/*.c and src/*.h, read from the
    source;
  - calls: every undefined symbol of a src/ object file of BUILD_DIR that
    another src/ object defines, read with nm (as a linker sees it).
A file of src/ that the document does not place is an error too, so a new
file cannot dodge the check. Prints each violation and a summary line;
exits 1 on any violation."""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FLOORS = ["utilities", "net", "stream", "wiring", "commands", "main"]
# config.h comes from configure; compat.h stands in for libc.
OUTSIDE = {"config.h": 0, "compat.h": 0}


def read_floors():
    """File name -> floor number (0 = utilities ... 5 = main)."""
    floors, cur = {}, None
    path = os.path.join(ROOT, "doc", "architecture.md")
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"###\s+(\w+)", line)
            if m:
                cur = m.group(1) if m.group(1) in FLOORS else None
                continue
            if line.startswith("## "):
                cur = None
            if cur is None or not line.startswith("- "):
                continue
            # The file names before the first colon: "- `a.c`, `a.h`: ..."
            head = line.split(":", 1)[0]
            for name in re.findall(r"`([\w.-]+\.[ch])`", head):
                floors[name] = FLOORS.index(cur)
    return floors


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: layers.py BUILD_DIR")
    build = sys.argv[1]
    floors = read_floors()
    floors.update(OUTSIDE)
    bad = []

    sources = sorted(glob.glob(os.path.join(ROOT, "src", "*.[ch]")))
    for path in sources:
        name = os.path.basename(path)
        if name not in floors:
            bad.append(f"{name}: no floor in doc/architecture.md")
    nincl = 0
    for path in sources:
        name = os.path.basename(path)
        if name not in floors:
            continue
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                nincl += 1
                inc = os.path.basename(m.group(1))
                if inc not in floors:
                    bad.append(f"src/{name}:{n}: includes {inc}, which has "
                               "no floor in doc/architecture.md")
                elif floors[inc] > floors[name]:
                    bad.append(f"src/{name}:{n}: includes {inc} "
                               f"({FLOORS[floors[inc]]}) from "
                               f"{FLOORS[floors[name]]}")

    # The objects of today's sources (a stale one of a removed file is not).
    objs = [o for o in sorted(glob.glob(os.path.join(build, "src", "*.o")))
            if os.path.exists(os.path.join(ROOT, "src",
                                           os.path.basename(o)[:-2] + ".c"))]
    if not objs:
        sys.exit(f"layers.py: no object files in {build}/src: build first")
    defs, uses = {}, {}
    for o in objs:
        out = subprocess.run(["nm", o], capture_output=True, text=True,
                             check=True).stdout
        src = os.path.basename(o)[:-2] + ".c"
        uses[src] = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRVW":
                defs.setdefault(parts[2], src)
            elif len(parts) == 2 and parts[0] == "U":
                uses[src].add(parts[1])
    ncalls = 0
    for src, syms in sorted(uses.items()):
        if src not in floors:
            bad.append(f"{src}: no floor in doc/architecture.md")
            continue
        for sym in sorted(syms):
            dst = defs.get(sym)
            if dst is None or dst == src:
                continue
            ncalls += 1
            if dst not in floors:
                continue	# reported above
            if floors[dst] > floors[src]:
                bad.append(f"src/{src}: uses {sym} of {dst} "
                           f"({FLOORS[floors[dst]]}) from "
                           f"{FLOORS[floors[src]]}")
    for b in bad:
        print("layering: " + b)
    print(f"{len(sources)} files, {nincl} includes, {ncalls} uses between "
          f"files, {len(bad)} going up a floor")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
