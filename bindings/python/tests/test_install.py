# SPDX-License-Identifier: MIT
"""`pip install --no-build-isolation bindings/python` in a fresh venv
(offline: no wheel package, nothing fetched), then the installed package
finds its library with no variable set."""

import os
import subprocess
import sys
import tempfile
import unittest

import goconc

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)


def has_ensurepip():
    r = subprocess.run([sys.executable, "-c", "import ensurepip, venv"],
                       capture_output=True)
    return r.returncode == 0


@unittest.skipUnless(has_ensurepip(),
                     "this Python has no venv/ensurepip (Debian: python3-venv)")
class TestInstall(unittest.TestCase):
    def test_pip_install_into_fresh_venv(self):
        with tempfile.TemporaryDirectory() as tmp:
            venv = os.path.join(tmp, "venv")
            subprocess.run([sys.executable, "-m", "venv", venv], check=True,
                           capture_output=True, timeout=300)
            py = os.path.join(venv, "bin", "python")
            env = {k: v for k, v in os.environ.items()
                   if k not in ("GOCONC_LIBRARY", "PYTHONPATH",
                                "LD_LIBRARY_PATH", "PIP_FIND_LINKS")}
            # Build against the library these tests run with.
            env["GOCONC_LIB_DIR"] = os.path.dirname(goconc.library_path())
            r = subprocess.run(
                [py, "-m", "pip", "install", "--no-build-isolation",
                 "--no-index", "--no-cache-dir", PKG_ROOT],
                env=env, capture_output=True, text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            del env["GOCONC_LIB_DIR"]
            r = subprocess.run(
                [py, "-c", "import goconc, os; "
                 "assert goconc.__file__.startswith(%r), goconc.__file__; "
                 "m = goconc.Map({b'k': b'v'}); assert m[b'k'] == b'v'; "
                 "print(os.path.realpath(goconc.library_path()))" % venv],
                env=env, cwd=tmp, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(),
                             os.path.realpath(goconc.library_path()))


if __name__ == "__main__":
    unittest.main()
