#!/usr/bin/env python3
"""Writes schema/data/routeros.txt, the compact RouterOS 7 command tree of mikrotik-rs-schema.

Reads the `/console/inspect` dumps (one directory per RouterOS release, each with
`inspect-all-packages.json`) and writes the union of all releases: every menu,
command and argument with the releases it exists in, and the argument's type hints.

    python3 scripts/generate_schema.py ../shared/routeros-schema

Run it again when RouterOS releases a new version (add the dump's directory first);
commit the output. The crate reads only the output: it builds without the dumps.

Output format (text, one entry a line, sorted by name so lookups can bisect):

    mikrotik-rs-schema 1
    versions 7.9.2 7.10.2 …          the covered releases, oldest first (bit 0 = first)
    hint <text>                      one line per distinct type hint (index = order)
    /ip/address[ @MASK]              a menu (`/` is the root)
     add[ @MASK]                     a command of the menu above
      address[ @MASK][ #H,H][ ~]     an argument; #: its hints; ~: some release gives none

MASK is the hexadecimal bit set of the releases the entry exists in, left out when it
is every release.
"""

import json
import os
import re
import sys

FORMAT = "mikrotik-rs-schema 1"


def version_key(name):
    return tuple(int(part) for part in name.split("."))


def walk(node, path, version, menus):
    """Records every dir (menu), cmd and arg below `node` for `version`."""
    menu = menus.setdefault(path, {"versions": set(), "commands": {}})
    menu["versions"].add(version)
    for name, child in node.items():
        if not isinstance(child, dict):
            continue  # `_type`, and a `desc` some menus carry
        if re.search(r"[\s@#~]", name):
            sys.exit(f"unexpected character in name {name!r} under {path}")
        kind = child.get("_type")
        if kind in ("dir", "path"):  # `path`: a few top menus (`/ip`, `/file`, …)
            walk(child, f"{path.rstrip('/')}/{name}", version, menus)
        elif kind == "cmd":
            command = menu["commands"].setdefault(name, {"versions": set(), "arguments": {}})
            command["versions"].add(version)
            for arg_name, arg in child.items():
                if not isinstance(arg, dict):
                    continue
                if arg.get("_type") != "arg":
                    sys.exit(f"{path} {name}: child {arg_name} is a {arg.get('_type')}, not an arg")
                if re.search(r"[\s@#~]", arg_name):
                    sys.exit(f"unexpected character in argument {arg_name!r} of {path} {name}")
                argument = command["arguments"].setdefault(
                    arg_name, {"versions": set(), "hints": {}, "unhinted": False}
                )
                argument["versions"].add(version)
                desc = arg.get("desc")
                if desc:
                    hint = " ".join(desc.split())
                    argument["hints"].setdefault(hint, set()).add(version)
                else:
                    argument["unhinted"] = True
        else:
            sys.exit(f"{path}/{name}: unknown _type {kind!r}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    source = sys.argv[1]
    versions = sorted(
        (d for d in os.listdir(source) if os.path.isfile(os.path.join(source, d, "inspect-all-packages.json"))),
        key=version_key,
    )
    if not versions or len(versions) > 64:
        sys.exit(f"expected 1 to 64 releases in {source}, found {len(versions)}")
    menus = {}
    for version in versions:
        with open(os.path.join(source, version, "inspect-all-packages.json")) as f:
            walk(json.load(f), "/", version, menus)

    bit = {version: 1 << i for i, version in enumerate(versions)}
    every = (1 << len(versions)) - 1

    def mask(names):
        value = sum(bit[v] for v in names)
        return "" if value == every else f" @{value:x}"

    hints = sorted({h for m in menus.values() for c in m["commands"].values()
                    for a in c["arguments"].values() for h in a["hints"]})
    hint_index = {h: i for i, h in enumerate(hints)}

    lines = [FORMAT, "versions " + " ".join(versions)]
    lines += [f"hint {h}" for h in hints]
    for path in sorted(menus):
        menu = menus[path]
        lines.append(path + mask(menu["versions"]))
        for name in sorted(menu["commands"]):
            command = menu["commands"][name]
            lines.append(f" {name}{mask(command['versions'])}")
            for arg_name in sorted(command["arguments"]):
                argument = command["arguments"][arg_name]
                line = f"  {arg_name}{mask(argument['versions'])}"
                if argument["hints"]:
                    line += " #" + ",".join(str(hint_index[h]) for h in sorted(argument["hints"]))
                    if argument["unhinted"]:
                        line += " ~"
                lines.append(line)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schema", "data", "routeros.txt")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    commands = sum(len(m["commands"]) for m in menus.values())
    arguments = sum(len(c["arguments"]) for m in menus.values() for c in m["commands"].values())
    print(f"{len(versions)} releases, {len(menus)} menus, {commands} commands, "
          f"{arguments} arguments, {len(hints)} hints -> {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
