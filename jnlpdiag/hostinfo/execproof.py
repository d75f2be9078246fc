"""Prove that a directory can hold native code that loads, the way JNA and jffi use it.

A mount option says what should happen; this shows what does. In the directory under test we
write a tiny shared object, then a child process (so nothing the loader does can harm the tool)
``mmap``s it ``PROT_EXEC``, ``dlopen``s it and calls its one function, which returns 42. The file
is always removed, whatever happens.

Where the shared object comes from (in this order):

1. **Bytes built here** (x86-64 and aarch64, little-endian ELF64): an ``ET_DYN`` with a read+execute
   ``PT_LOAD`` (header, ``DT_HASH``, one symbol, 8 bytes of code), a read+write ``PT_LOAD`` for
   ``PT_DYNAMIC`` (glibc before 2.35 writes relocated addresses into ``.dynamic``), and a
   ``PT_GNU_STACK`` without execute (glibc 2.41+ refuses ``dlopen`` of objects that ask for an
   executable stack). Layout per the System V gABI ("ELF Header", "Program Header", "Dynamic
   Section", "Hash Table") and the x86-64 / AArch64 psABI supplements. This is the default: agent
   hosts rarely have a compiler, building is instant, and nothing else is written anywhere.
2. **The host's ``cc``**, for other machines (ppc64le, s390x, riscv64...), compiling a one-line
   function straight into the directory under test (its own temporary files go to a private
   directory that is removed).
3. **Neither**: the ``mmap PROT_EXEC`` test alone, on a copy of nothing but bytes. That still
   answers ``noexec`` (the kernel's ``path_noexec`` check in ``do_mmap`` needs no valid ELF).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from jnlpdiag.pycompat import Timeouts

SYMBOL = "jnlpdiag_exec_probe"
EXPECTED = 42
_PREFIX = ".jnlpdiag-execproof-"

# mov eax, 42 ; ret   /   mov w0, #42 ; ret
_CODE = {
    62: bytes.fromhex("b82a000000c3"),  # x86-64
    183: struct.pack("<II", 0x52800540, 0xD65F03C0),  # aarch64
}
_MACHINE_BY_NAME = {"x86_64": 62, "amd64": 62, "aarch64": 183, "arm64": 183}
_ALIGN = 0x10000  # valid with 4 KiB and 64 KiB pages


def host_machine() -> int | None:
    """The ELF machine of this interpreter, when it is one we can build bytes for."""
    if sys.maxsize <= 2**32 or sys.byteorder != "little":
        return None
    return _MACHINE_BY_NAME.get(platform.machine().lower())


def build_shared_object(machine: int) -> bytes:
    """A minimal, valid ELF64 little-endian shared object exporting ``int jnlpdiag_exec_probe(void)``."""
    code = _CODE[machine]
    ehdr_size, phdr_size, n_phdr = 64, 56, 4
    hash_off = ehdr_size + phdr_size * n_phdr
    hash_tab = struct.pack("<5I", 1, 2, 1, 0, 0)  # nbucket=1, nchain=2, bucket[0]=1, chain[0..1]=0
    dynsym_off = _round8(hash_off + len(hash_tab))
    dynstr = b"\0" + SYMBOL.encode() + b"\0"
    dynstr_off = dynsym_off + 2 * 24
    code_off = _round8(dynstr_off + len(dynstr))
    text_end = _round8(code_off + len(code))
    dynsym = bytes(24) + struct.pack("<IBBHQQ", 1, 0x12, 0, 1, code_off, len(code))  # GLOBAL FUNC
    dyn_off = text_end
    dyn_vaddr = _ALIGN + dyn_off
    dynamic = b"".join(struct.pack("<qQ", tag, val) for tag, val in (
        (4, hash_off),  # DT_HASH
        (5, dynstr_off),  # DT_STRTAB
        (6, dynsym_off),  # DT_SYMTAB
        (10, len(dynstr)),  # DT_STRSZ
        (11, 24),  # DT_SYMENT
        (0, 0),  # DT_NULL
    ))
    total = dyn_off + len(dynamic)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # ELFCLASS64, LSB, EV_CURRENT, SYSV
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 3, machine, 1, 0, ehdr_size, 0, 0,
                               ehdr_size, phdr_size, n_phdr, 64, 0, 0)
    phdrs = b"".join((
        struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, text_end, text_end, _ALIGN),  # PT_LOAD R+X
        struct.pack("<IIQQQQQQ", 1, 6, dyn_off, dyn_vaddr, dyn_vaddr, len(dynamic), len(dynamic), _ALIGN),  # RW
        struct.pack("<IIQQQQQQ", 2, 6, dyn_off, dyn_vaddr, dyn_vaddr, len(dynamic), len(dynamic), 8),  # PT_DYNAMIC
        struct.pack("<IIQQQQQQ", 0x6474E551, 6, 0, 0, 0, 0, 0, 16),  # PT_GNU_STACK RW
    ))
    image = bytearray(total)
    for off, blob in ((0, ehdr), (ehdr_size, phdrs), (hash_off, hash_tab), (dynsym_off, dynsym),
                      (dynstr_off, dynstr), (code_off, code), (dyn_off, dynamic)):
        image[off:off + len(blob)] = blob
    return bytes(image)


def _round8(n: int) -> int:
    return (n + 7) & ~7


def child_command(mode: str, path: str, symbol: str | None = None) -> list[str]:
    source = files("jnlpdiag.hostinfo").joinpath("_loadchild.py").read_text(encoding="utf-8")
    # An interpreter under a directory this user may not search (a pyenv in /root, run by another
    # user) cannot be started by path; /proc/self/exe names the same file without the path walk.
    python = sys.executable if sys.executable and os.access(sys.executable, os.X_OK) else "/proc/self/exe"
    return [python, "-I", "-S", "-c", source, mode, path, *([symbol] if symbol else [])]


@dataclass
class LoadResult:
    """What the child saw. ``dlopen`` is "ok" or the loader's error text."""

    dlopen: str | None = None
    mmap_exec: str | None = None
    call: int | None = None
    error: str | None = None  # the child itself failed (timeout, crash, no output)

    @property
    def loaded(self) -> bool:
        return self.dlopen == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


async def run_child(mode: str, path: str, timeout: float, symbol: str | None = None,
                    env: dict[str, str] | None = None) -> LoadResult:
    """Run the loader child on ``path``; never raises for the child's own failures."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *child_command(mode, path, symbol), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd="/", env=env,
        )
    except OSError as exc:
        return LoadResult(error=f"cannot start the loader child: {exc.strerror or exc}")
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except Timeouts:
        return LoadResult(error=f"the loader child did not finish within {timeout:g} s")
    finally:
        if proc.returncode is None:  # timed out or cancelled: never leave the child behind
            proc.kill()
            await proc.wait()
    line = out.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    try:
        data = json.loads(line[0])
    except ValueError:
        how = f"signal {-proc.returncode}" if proc.returncode and proc.returncode < 0 else f"exit {proc.returncode}"
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return LoadResult(error=f"the loader child died ({how}) {tail[0][:300]}".strip())
    return LoadResult(dlopen=data.get("dlopen"), mmap_exec=data.get("mmap_exec"),
                      call=data.get("call"), error=data.get("call_error"))


@dataclass
class ExecProof:
    directory: str
    method: str = ""  # "elf-bytes", "cc", "mmap-only"
    written: bool = False
    write_error: str | None = None
    result: LoadResult = field(default_factory=LoadResult)
    removed: bool = True

    @property
    def verdict(self) -> str:
        """``exec`` (code ran), ``noexec`` (mapping for execution refused), or ``unknown``."""
        r = self.result
        if r.call == EXPECTED or (self.method == "mmap-only" and r.mmap_exec == "ok"):
            return "exec"
        if r.mmap_exec and r.mmap_exec != "ok" and "errno 1)" in r.mmap_exec:
            return "noexec"
        if r.dlopen and "failed to map segment" in r.dlopen:
            return "noexec"
        return "unknown"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "verdict": self.verdict, "written": self.written}
        if self.write_error:
            out["write_error"] = self.write_error
        out.update(self.result.to_dict())
        if not self.removed:
            out["removed"] = False
        return out


async def _compile_with_cc(cc: str, dest: str, timeout: float) -> str | None:
    """Compile the probe function into ``dest``; None on success, else the error."""
    private = tempfile.mkdtemp(prefix=_PREFIX)
    try:
        src = os.path.join(private, "probe.c")
        with open(src, "w", encoding="ascii") as fh:
            fh.write(f"int {SYMBOL}(void) {{ return {EXPECTED}; }}\n")
        env = {**os.environ, "TMPDIR": private}
        proc = await asyncio.create_subprocess_exec(
            cc, "-shared", "-fPIC", "-Wl,-z,noexecstack", "-o", dest, src, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, err = await asyncio.wait_for(proc.communicate(), timeout)
        except Timeouts:
            proc.kill()
            await proc.wait()
            return f"{cc} did not finish within {timeout:g} s"
        return None if proc.returncode == 0 else err.decode("utf-8", "replace").strip()[-300:]
    except OSError as exc:
        return f"{cc}: {exc.strerror or exc}"
    finally:
        shutil.rmtree(private, ignore_errors=True)


async def prove_exec(directory: str, timeout: float) -> ExecProof:
    """Write a probe shared object into ``directory``, load it in a child, remove it."""
    proof = ExecProof(directory)
    machine = host_machine()
    cc = None if machine is not None else shutil.which("cc")
    proof.method = "elf-bytes" if machine is not None else ("cc" if cc else "mmap-only")
    path = None
    try:
        try:
            fd, path = tempfile.mkstemp(prefix=_PREFIX, suffix=".so", dir=directory)
        except OSError as exc:
            proof.write_error = f"{exc.strerror or exc} (errno {exc.errno})"
            return proof
        with os.fdopen(fd, "wb") as fh:
            try:
                fh.write(build_shared_object(machine) if machine is not None else b"\x7fELF" + bytes(60))
            except OSError as exc:  # e.g. ENOSPC, EDQUOT
                proof.write_error = f"{exc.strerror or exc} (errno {exc.errno})"
                return proof
        if cc is not None:
            failure = await _compile_with_cc(cc, path, timeout)
            if failure:
                proof.method = "mmap-only"
                proof.write_error = f"cc failed, fell back to the mmap test: {failure}"
        proof.written = True
        if proof.method == "mmap-only":
            proof.result = await run_child("mmap", path, timeout)
        else:
            proof.result = await run_child("exec", path, timeout, SYMBOL)
        return proof
    finally:
        if path is not None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError:
                proof.removed = False
