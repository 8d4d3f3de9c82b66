#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""spdx.py [--check] [ROOT] - every source file of the tree starts with an
SPDX-License-Identifier line (after a #! line): add it, or with --check
list the files that lack it and exit 1.  Source files: what git tracks (or,
outside a checkout, what lies under the tree) with a source extension."""
import os
import subprocess
import sys

LINE = "SPDX-License-Identifier: MIT"
STYLES = {
    (".c", ".h", ".cpp", ".hpp", ".h.in"): "/* %s */",
    (".rs",): "// %s",
    (".py", ".sh", ".build", ".txt", ".supp", ".cmake", ".toml"): "# %s",
}
NAMES = {"meson.build": "# %s", "meson_options.txt": "# %s", "run": "# %s", "MANIFEST.in": "# %s"}
SKIP_DIRS = ("tests/corpus/", "abi/")


def style(path):
    base = os.path.basename(path)
    if base in NAMES:
        return NAMES[base]
    if base.endswith(".cmake.in"):
        return "# %s"
    for exts, fmt in STYLES.items():
        if base.endswith(exts):
            return fmt
    return None


def files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True,
                             check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if not x.startswith((".", "build", "target"))]
            out += [os.path.relpath(os.path.join(d, n), root) for n in names]
    for f in sorted(out):
        if f.startswith(SKIP_DIRS) or f == "Cargo.lock" or f.endswith("Cargo.lock"):
            continue
        if f.endswith("requirements.txt") or f.endswith("LICENSE"):
            continue
        fmt = style(f)
        if fmt and os.path.isfile(os.path.join(root, f)):
            yield f, fmt


def has_line(text):
    return LINE in "\n".join(text.split("\n")[:3])


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    root = args[0] if args else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    missing = []
    for f, fmt in files(root):
        p = os.path.join(root, f)
        with open(p, encoding="utf-8") as fh:
            text = fh.read()
        if has_line(text):
            continue
        if check:
            missing.append(f)
            continue
        line = fmt % LINE + "\n"
        if text.startswith("#!"):
            first, _, rest = text.partition("\n")
            text = first + "\n" + line + rest
        else:
            text = line + text
        with open(p, "w", encoding="utf-8") as fh:
            fh.write(text)
    if missing:
        print("no SPDX-License-Identifier line in:")
        print("\n".join("  " + f for f in missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
