"""jnlpdiag.pyz start-up: pick the wheels for this Python and CPU, run the tool, clean up.

Standard library only; runs on every Python the tool supports (3.9+). The archive holds every wheel
the tool needs, unpacked under ``wheels/<wheel name>/``, and ``pyz.json`` lists which of them make up
the tool for each ``cpXY-<machine>`` (native code, e.g. cffi and websockets' speedups, is built per
Python version and CPU). Pure-Python wheels are imported from inside this file (zipimport); the
wheels with native code, and jnlpdiag itself (its data files, stylesheets and helper scripts are
read as files), are copied to a private temporary directory: native modules cannot be loaded from
inside a zip file. The tool runs in a child interpreter and the directory is removed when the child
ends, however it ends: the parent only waits, forwards SIGTERM/SIGHUP, and cleans up. Nothing is
written elsewhere (the child runs with -B: no bytecode files).

The directory is made where native code can load: the first of ``$JNLPDIAG_PYZ_TMPDIR``, the temp
directory, ``/dev/shm``, ``$XDG_RUNTIME_DIR``, ``~/.cache`` that is writable and not mounted
``noexec`` (a noexec ``/tmp`` is one of the faults this tool diagnoses).
"""

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile

MACHINES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "armv8l": "aarch64"}


def fail(message):
    sys.stderr.write("jnlpdiag.pyz: " + message + "\n")
    return 3


def target():
    machine = platform.machine().lower()
    return f"cp{sys.version_info[0]}{sys.version_info[1]}-{MACHINES.get(machine, machine)}"


def exec_ok(path):
    try:
        st = os.statvfs(path)
    except OSError:
        return False
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK) and not st.f_flag & getattr(os, "ST_NOEXEC", 8)


def private_dir():
    candidates = [os.environ.get("JNLPDIAG_PYZ_TMPDIR"), tempfile.gettempdir(), "/dev/shm",
                  os.environ.get("XDG_RUNTIME_DIR"), os.path.expanduser("~/.cache")]
    tried = []
    for base in candidates:
        if not base or base in tried:
            continue
        tried.append(base)
        if exec_ok(base):
            try:
                return tempfile.mkdtemp(prefix="jnlpdiag-pyz-", dir=base), tried
            except OSError:
                continue
    return None, tried


def unpack(archive, wheels, dest):
    """Copy wheels/<name>/... of each wheel into dest (one site directory)."""
    prefixes = tuple(f"wheels/{w}/" for w in wheels)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.startswith(prefixes):
                continue
            rel = info.filename.split("/", 2)[2]
            path = os.path.join(dest, *rel.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with zf.open(info) as src, open(path, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            if info.external_attr >> 16 & 0o111:
                os.chmod(path, 0o755)


def must_copy(wheel):
    """Native wheels, and jnlpdiag (read as files), are copied out; pure Python is imported in place."""
    return wheel.startswith("jnlpdiag-") or not wheel.endswith("-none-any")


def main():
    archive = os.path.dirname(os.path.abspath(__file__))
    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read("pyz.json").decode("utf-8"))
    if platform.python_implementation() != "CPython":
        return fail(f"needs CPython, not {platform.python_implementation()}")
    key = target()
    wheels = manifest["targets"].get(key)
    if wheels is None:
        return fail(f"this file has no build for {key} (Python {platform.python_version()} on {platform.machine()}); "
                    f"it has: {', '.join(sorted(manifest['targets']))}. Use `pip install jnlpdiag` there.")
    libc = platform.libc_ver()[0]
    if libc != "glibc":
        return fail(f"its native wheels need glibc {manifest.get('glibc', '2.28')} or newer (manylinux); "
                    f"this system's C library is {libc or 'not glibc (musl?)'}: use `pip install jnlpdiag` there")
    made, tried = private_dir()
    if made is None:
        return fail(f"no writable directory that allows native code (tried {', '.join(tried)}); "
                    "set JNLPDIAG_PYZ_TMPDIR to one")
    child = None
    forwarded = {}

    def forward(signum, frame):
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    try:
        site = os.path.join(made, "site")
        copied = [w for w in wheels if must_copy(w)]
        unpack(archive, copied, site)
        path = [site] + [archive + "/wheels/" + w for w in wheels if w not in copied]
        code = (f"import sys; sys.path[:0] = {path!r}; sys.argv[0] = 'jnlpdiag'; "
                "from jnlpdiag.cli import main; sys.exit(main())")
        env = dict(os.environ, JNLPDIAG_PYZ=archive)
        child = subprocess.Popen([sys.executable, "-I", "-B", "-c", code] + sys.argv[1:], env=env)
        # Only now: an ignored SIGINT would be inherited, and Python would then not turn Ctrl-C into
        # KeyboardInterrupt in the child. Ctrl-C reaches the child through the terminal's process
        # group; the parent waits for it.
        forwarded[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            forwarded[sig] = signal.signal(sig, forward)
        while True:
            try:
                returncode = child.wait()
                break
            except InterruptedError:
                continue
        return 128 - returncode if returncode < 0 else returncode
    finally:
        for sig, old in forwarded.items():
            signal.signal(sig, old)
        shutil.rmtree(made, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
