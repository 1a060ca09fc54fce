#!/usr/bin/env python3
"""Checks that includes in src/ point down the layers, never up or sideways.

core <- store, upstream, stream, http, media <- providers <- router <- api <- admin <- app, cli
<- main.c

A file may include headers of its own folder and of folders on lower layers.
Folders on the same layer do not include each other: what two of them share
belongs lower down. Prints each offending include and exits 1, else prints a
summary line and exits 0.
"""
import os
import re
import sys

LAYERS = [["core"], ["store", "upstream", "stream", "http", "media"], ["providers"],
          ["router"], ["api"], ["admin"], ["app", "cli"], ["main"]]
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"/]+)/[^"]+"', re.M)


def folder_of(path):
    rel = os.path.relpath(path, "src")
    return "main" if os.sep not in rel else rel.split(os.sep)[0]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    os.chdir(root)
    bad = []
    files = 0
    for dirpath, _, names in os.walk("src"):
        for name in sorted(names):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            here = folder_of(path)
            if here not in LEVEL:
                bad.append(f"{path}: folder '{here}' is on no layer (add it to {sys.argv[0]})")
                continue
            files += 1
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                there = m.group(1)
                line = text.count("\n", 0, m.start()) + 1
                if there == here:
                    continue
                if there not in LEVEL:
                    bad.append(f"{path}:{line}: includes from unknown folder '{there}'")
                elif LEVEL[there] > LEVEL[here]:
                    bad.append(f"{path}:{line}: {here}/ includes {there}/, a higher layer")
                elif LEVEL[there] == LEVEL[here]:
                    bad.append(f"{path}:{line}: {here}/ includes {there}/, a folder on its own layer")
    for b in bad:
        print(b)
    if bad:
        print(f"layers: {len(bad)} include(s) against the layering")
        return 1
    print(f"layers: {files} files, every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
