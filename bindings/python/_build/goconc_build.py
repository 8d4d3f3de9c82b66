# SPDX-License-Identifier: MIT
"""A PEP 517 build backend for goconc that needs setuptools and nothing else.

setuptools.build_meta builds wheels through the `wheel` package (before
setuptools 70.1), which a fresh `python3 -m venv` lacks, and an offline
machine cannot fetch: `pip install --no-build-isolation` then fails with
"invalid command 'bdist_wheel'".  A wheel is only a zip file, so this
backend runs setup.py's egg_info and build commands (build_py +
build_ext) into a temporary directory and zips the result with its
.dist-info itself.  Source distributions go to setuptools as usual.
"""

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

from setuptools import build_meta as _setuptools

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

build_sdist = _setuptools.build_sdist
get_requires_for_build_sdist = _setuptools.get_requires_for_build_sdist


def get_requires_for_build_wheel(config_settings=None):
    return []


def _tag():
    impl = "cp" if sys.implementation.name == "cpython" else \
        sys.implementation.name[:2]
    ver = "%s%d%d" % (impl, sys.version_info[0], sys.version_info[1])
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "%s-%s-%s" % (ver, ver, plat)


def _metadata(egg_info):
    """PKG-INFO as METADATA, plus top_level.txt."""
    with open(os.path.join(egg_info, "PKG-INFO"), encoding="utf-8") as f:
        meta = f.read()
    with open(os.path.join(egg_info, "top_level.txt"), encoding="utf-8") as f:
        top = f.read()
    return meta, top


def _digest(data):
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + h.decode("ascii")


def _write_wheel(path, lib, distinfo, files):
    """Zip the tree @lib plus the dist-info @files into @path."""
    record = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for root, dirs, names in os.walk(lib):
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(root, name)
                arc = os.path.relpath(full, lib).replace(os.sep, "/")
                with open(full, "rb") as f:
                    data = f.read()
                z.writestr(zipfile.ZipInfo.from_file(full, arc), data)
                record.append("%s,%s,%d" % (arc, _digest(data), len(data)))
        for name, text in files:
            arc = "%s/%s" % (distinfo, name)
            data = text.encode("utf-8")
            z.writestr(arc, data)
            record.append("%s,%s,%d" % (arc, _digest(data), len(data)))
        record.append("%s/RECORD,," % distinfo)
        z.writestr("%s/RECORD" % distinfo, "\n".join(record) + "\n")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    tmp = tempfile.mkdtemp(prefix="goconc-wheel-")
    try:
        lib = os.path.join(tmp, "lib")
        subprocess.run([sys.executable, "setup.py", "-q",
                        "egg_info", "--egg-base", tmp,
                        "build", "--build-base", os.path.join(tmp, "build"),
                        "--build-lib", lib],
                       cwd=HERE, check=True)
        egg_info = [d for d in os.listdir(tmp) if d.endswith(".egg-info")][0]
        meta, top = _metadata(os.path.join(tmp, egg_info))
        name = egg_info[:-len(".egg-info")]
        version = next(line.split(":", 1)[1].strip()
                       for line in meta.splitlines()
                       if line.startswith("Version:"))
        distinfo = "%s-%s.dist-info" % (name, version)
        wheel = ("Wheel-Version: 1.0\nGenerator: goconc_build\n"
                 "Root-Is-Purelib: false\nTag: %s\n" % _tag())
        filename = "%s-%s-%s.whl" % (name, version, _tag())
        _write_wheel(os.path.join(wheel_directory, filename), lib, distinfo,
                     [("METADATA", meta), ("WHEEL", wheel),
                      ("top_level.txt", top)])
        return filename
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
