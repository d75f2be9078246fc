"""Child process: try to map and load one shared object, print one JSON line, exit.

Run as ``python -I -S _loadchild.py MODE PATH [SYMBOL]`` by :mod:`jnlpdiag.hostinfo.execproof`, so
that a library whose constructor crashes takes down this child, not the tool. Standard library
only (it runs with ``-I -S``).

MODE ``mmap``: only the ``mmap`` test. MODE ``exec``: ``mmap`` the file ``PROT_READ|PROT_EXEC``
(the kernel refuses with EPERM on a ``noexec`` mount: mm/mmap.c ``do_mmap`` checks
``path_noexec``), then ``dlopen`` it and call SYMBOL, which must return 42. MODE ``load``:
``dlopen`` only, with ``RTLD_LAZY`` as HotSpot's ``os::dll_load`` does
(src/hotspot/os/linux/os_linux.cpp), and report ``dlerror()``.
"""

import ctypes
import json
import mmap
import os
import sys

RTLD_LAZY = 0x1
RTLD_NOW = 0x2


def _libdl() -> ctypes.CDLL:
    for name in (None, "libdl.so.2"):
        try:
            lib = ctypes.CDLL(name)
            lib.dlopen  # noqa: B018 - probe for the symbol
            return lib
        except (OSError, AttributeError):
            continue
    raise OSError("no dlopen in this process")


def try_mmap_exec(path: str) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        mapped = mmap.mmap(fd, size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)
        mapped.close()
        return "ok"
    except OSError as exc:
        return f"{exc.strerror} (errno {exc.errno})"
    finally:
        os.close(fd)


def main(argv: list[str]) -> int:
    mode, path = argv[1], argv[2]
    result: dict[str, object] = {}
    if mode in ("exec", "mmap"):
        result["mmap_exec"] = try_mmap_exec(path)
    if mode == "mmap":
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    libdl = _libdl()
    libdl.dlopen.restype = ctypes.c_void_p
    libdl.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    libdl.dlerror.restype = ctypes.c_char_p
    libdl.dlsym.restype = ctypes.c_void_p
    libdl.dlsym.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    flags = RTLD_NOW if mode == "exec" else RTLD_LAZY
    handle = libdl.dlopen(os.fsencode(path), flags)
    if not handle:
        err = libdl.dlerror()
        result["dlopen"] = err.decode("utf-8", "replace") if err else "dlopen failed without a message"
    else:
        result["dlopen"] = "ok"
        if mode == "exec" and len(argv) > 3:
            addr = libdl.dlsym(handle, argv[3].encode())
            if addr:
                result["call"] = ctypes.CFUNCTYPE(ctypes.c_int)(addr)()
            else:
                err = libdl.dlerror()
                result["call_error"] = err.decode("utf-8", "replace") if err else "symbol not found"
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
