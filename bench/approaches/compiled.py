"""Builds this folder's compiled code at first use, into _build/<name>-<key>/.

The key hashes the sources, the flags and the toolchain versions, so a change to any of them
gives a fresh build and an unchanged one is reused. A build runs in a staging folder that is
renamed into place when it is complete, so concurrent first uses (MPI ranks, parallel test
runs) never load half a build. Build output goes to build.log in the folder, not to stdout.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
BUILD = HERE / "_build"
#: Every compiled approach is built with these: no -ffast-math, and no fused multiply-add.
FLAGS = ["-O3", "-ffp-contract=off"]
#: The Debian packages that provide each tool, for the error message when one is missing.
PACKAGES = {"gfortran": "gfortran", "mpif90": "libopenmpi-dev gfortran",
            "mpiexec": "openmpi-bin"}


def _toolchain(*commands: str) -> str:
    """The version lines of the given compilers, for the cache key."""
    lines = []
    for command in commands:
        found = shutil.which(command)
        if found is None:
            raise RuntimeError(f"{command} not found: install it (Debian: apt-get install "
                               f"{PACKAGES.get(command, 'gcc')})")
        out = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
        lines.append(out.splitlines()[0] if out else command)
    return "\n".join(lines)


def _build_env() -> dict[str, str]:
    """The environment for build tools: this interpreter's bin first, so that the venv's
    cython, meson and ninja are found without activating the venv."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def cached(name: str, sources: list[Path], commands: list[list[str]], toolchain: str) -> Path:
    """The folder holding what `commands` made from `sources` (copied in first); built once."""
    digest = hashlib.sha256()
    for part in [sys.version, sysconfig.get_config_var("EXT_SUFFIX") or "", toolchain,
                 repr(commands)]:
        digest.update(part.encode())
    for source in sources:
        digest.update(source.read_bytes())
    target = BUILD / f"{name}-{digest.hexdigest()[:16]}"
    if target.is_dir():
        return target
    BUILD.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=BUILD))
    try:
        for source in sources:
            shutil.copy2(source, staging)
        with open(staging / "build.log", "w") as log:
            for command in commands:
                log.write("$ " + " ".join(command) + "\n")
                log.flush()
                done = subprocess.run(command, cwd=staging, env=_build_env(), stdout=log,
                                      stderr=subprocess.STDOUT)
                if done.returncode != 0:
                    log.close()
                    text = (staging / "build.log").read_text()
                    raise RuntimeError(f"building {name} failed ({' '.join(command)}):\n"
                                       + text[-4000:])
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():  # not another process finishing first: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load(folder: Path, module: str) -> ModuleType:
    """Imports the extension module `module` from `folder`."""
    path = folder / (module + sysconfig.get_config_var("EXT_SUFFIX"))
    spec = importlib.util.spec_from_file_location(module, path)
    if spec is None or spec.loader is None or not path.exists():
        raise ImportError(f"no extension module {module} in {folder}: see its build.log")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def cython_kernel() -> ModuleType:
    """cython_kernel.pyx, cythonized and compiled with FLAGS."""
    import Cython

    setup = ("from setuptools import Extension, setup\n"
             "from Cython.Build import cythonize\n"
             "setup(name='cython_kernel', script_args=['build_ext', '--inplace'],\n"
             "      ext_modules=cythonize([Extension('cython_kernel', ['cython_kernel.pyx'],\n"
             f"          extra_compile_args={FLAGS!r})], quiet=True))\n")
    folder = cached("cython_kernel", [HERE / "cython_kernel.pyx"], [[sys.executable, "-c", setup]],
                    _toolchain("cc") + "\nCython " + Cython.__version__)
    return load(folder, "cython_kernel")


def f2py_kernel() -> ModuleType:
    """f2py_kernel.f90, wrapped by numpy.f2py and built by its meson backend with FLAGS."""
    import numpy

    command = [sys.executable, "-m", "numpy.f2py", "-c", "f2py_kernel.f90", "-m", "f2py_kernel",
               "--backend", "meson", "--build-dir", "meson-build",
               "--f90flags=" + " ".join(FLAGS)]
    folder = cached("f2py_kernel", [HERE / "f2py_kernel.f90"],
                    [command, ["rm", "-rf", "meson-build"]],
                    _toolchain("cc", "gfortran") + "\nnumpy " + numpy.__version__)
    return load(folder, "f2py_kernel")


def fortran_reference() -> Path:
    """The Fortran reference program fortran/stencil.f90, built with gfortran and FLAGS.
    Usage: stencil N steps energy out.raw (writes the N*N interior, i fastest, raw float64)."""
    folder = cached("fortran_stencil", [HERE / "fortran" / "stencil.f90"],
                    [["gfortran", *FLAGS, "stencil.f90", "-o", "stencil"]], _toolchain("gfortran"))
    return folder / "stencil"


def fortran_mpi(extra_flags: tuple[str, ...] = ()) -> Path:
    """The MPI Fortran program fortran/stencil_mpi.f90, built with Open MPI's mpif90, FLAGS and
    `extra_flags` (e.g. -march=native, to match a sequential program built so).
    Usage: mpiexec -n P stencil_mpi N steps energy out.raw (rank 0 writes what stencil writes)."""
    folder = cached("fortran_stencil_mpi", [HERE / "fortran" / "stencil_mpi.f90"],
                    [["mpif90", *FLAGS, *extra_flags, "stencil_mpi.f90", "-o", "stencil_mpi"]],
                    _toolchain("mpif90", "mpiexec"))
    return folder / "stencil_mpi"
