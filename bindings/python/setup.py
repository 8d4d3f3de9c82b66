# SPDX-License-Identifier: MIT
"""Build goconc._goconc, the native core of the bindings, against libgoconc.

Where libgoconc comes from, first match wins:
  1. GOCONC_LIB_DIR (the directory holding libgoconc.so.1) and, optionally,
     GOCONC_INCLUDE_DIR (a path list: the directories holding goconc.h and
     goconc/version.h);
  2. the newest build tree of this checkout: ../../build*/src, with
     ../../include and the build tree's include/ (what `meson setup build &&
     ninja -C build` made);
  3. an installed library, through `pkg-config goconc`, else the compiler's
     default search paths.
The extension records the library's directory as its run path, so the
package finds the very library it was built against with no variable set.
"""

import glob
import os
import shlex
import subprocess

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _build_tree():
    """The newest libgoconc.so.1 under ROOT/build*/src, or None."""
    libs = glob.glob(os.path.join(ROOT, "build*", "src", "libgoconc.so.1"))
    if not libs or not os.path.isfile(os.path.join(ROOT, "include", "goconc.h")):
        return None
    return os.path.dirname(max(libs, key=os.path.getmtime))


def _pkg_config():
    try:
        out = subprocess.run(["pkg-config", "--cflags", "--libs", "goconc"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return [], []
    flags = shlex.split(out)
    incs = [f[2:] for f in flags if f.startswith("-I")]
    libs = [f[2:] for f in flags if f.startswith("-L")]
    return incs, libs


def _tree_includes(lib_dir):
    """The checkout's include/ and, beside a build tree's src/, the build
    tree's include/ (it holds the generated goconc/version.h)."""
    incs = [os.path.join(ROOT, "include")]
    built = os.path.join(os.path.dirname(os.path.abspath(lib_dir)), "include")
    if os.path.isfile(os.path.join(built, "goconc", "version.h")):
        incs.append(built)
    return incs


def locate():
    """(include_dirs, library_dirs) to build and run against."""
    lib_dir = os.environ.get("GOCONC_LIB_DIR")
    if lib_dir:
        inc = os.environ.get("GOCONC_INCLUDE_DIR")
        incs = inc.split(os.pathsep) if inc else _tree_includes(lib_dir)
        return incs, [os.path.abspath(lib_dir)]
    tree = _build_tree()
    if tree:
        return _tree_includes(tree), [tree]
    return _pkg_config()


include_dirs, library_dirs = locate()

ext = Extension(
    "goconc._goconc",
    sources=["goconc/_goconc.c", "goconc/_map.c", "goconc/_slice.c",
             "goconc/_value.c", "goconc/_once.c", "goconc/_pool.c"],
    depends=["goconc/_goconc.h"],
    include_dirs=include_dirs,
    library_dirs=library_dirs,
    # The versioned name: a build tree or a runtime-only install may lack
    # the libgoconc.so development link.
    libraries=[":libgoconc.so.1"],
    runtime_library_dirs=library_dirs,
    extra_compile_args=["-std=c11", "-fvisibility=hidden", "-Wall", "-Wextra",
                        "-Wno-missing-field-initializers",
                        "-Wno-cast-function-type"],
)

setup(ext_modules=[ext])
