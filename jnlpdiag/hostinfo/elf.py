"""What a shared object is built for and what it needs, read with pyelftools (never executed).

The ELF identification (class, byte order, machine) is read by hand first, from the fixed header
layout of the System V gABI ("ELF header", ``e_ident``/``e_machine``), so that a library for
another class or machine is named as such before pyelftools parses anything. The rest (program
headers, ``PT_INTERP``, ``DT_NEEDED``/``DT_RUNPATH``, ``.gnu.version_r`` needs, ``.gnu.version_d``
definitions, ``PT_GNU_STACK``) comes from pyelftools.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from jnlpdiag.localfile import LocalFileError, check_regular

# e_machine values (System V gABI / <elf.h>) of hosts a Jenkins agent runs on, plus common misfits.
MACHINES = {
    2: "sparc", 3: "x86 (i386)", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm",
    43: "sparcv9", 50: "ia64", 62: "x86-64", 183: "aarch64", 243: "riscv", 258: "loongarch",
}
EM_386, EM_X86_64 = 3, 62
ET_NAMES = {1: "relocatable", 2: "executable", 3: "shared object", 4: "core"}
PF_X = 0x1
DF_TEXTREL = 0x4
MAX_ELF_BYTES = 512 * 1024 * 1024


class ElfError(ValueError):
    """Not an ELF file, or one too damaged to read."""


@dataclass(frozen=True)
class ElfIdent:
    bits: int  # 32 or 64
    endian: str  # "little" or "big"
    machine: int
    elf_type: int

    @property
    def machine_name(self) -> str:
        return MACHINES.get(self.machine, f"e_machine {self.machine}")

    @property
    def type_name(self) -> str:
        return ET_NAMES.get(self.elf_type, f"e_type {self.elf_type}")

    def describe(self) -> str:
        return f"ELF {self.bits}-bit {self.endian}-endian {self.machine_name} {self.type_name}"


def read_ident(head: bytes) -> ElfIdent:
    """Class, byte order, type and machine from the first 20 bytes of an ELF file."""
    if len(head) < 20:
        raise ElfError("too short to be an ELF file" if head[:4] == b"\x7fELF" or not head else "not an ELF file")
    if head[:4] != b"\x7fELF":
        raise ElfError(f"not an ELF file (starts with {head[:4]!r})")
    ei_class, ei_data = head[4], head[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise ElfError(f"invalid ELF identification (class {ei_class}, data {ei_data})")
    order = "<" if ei_data == 1 else ">"
    elf_type, machine = struct.unpack_from(order + "HH", head, 16)
    return ElfIdent(32 if ei_class == 1 else 64, "little" if ei_data == 1 else "big", machine, elf_type)


def read_ident_file(path: str) -> ElfIdent:
    with open(path, "rb") as fh:
        return read_ident(fh.read(20))


@dataclass
class ElfInfo:
    ident: ElfIdent
    interpreter: str | None = None
    soname: str | None = None
    needed: list[str] = field(default_factory=list)
    rpath: list[str] = field(default_factory=list)
    runpath: list[str] = field(default_factory=list)
    version_needs: dict[str, list[str]] = field(default_factory=dict)  # file -> versions
    version_defs: list[str] = field(default_factory=list)
    gnu_stack_flags: int | None = None  # None: no PT_GNU_STACK header
    textrel: bool = False

    @property
    def libc_flavor(self) -> str | None:
        """``glibc``, ``musl`` or None (no libc named), from the interpreter or ``DT_NEEDED``."""
        names = [*self.needed, self.interpreter or ""]
        if any("musl" in n for n in names) or "libc.so" in self.needed:
            return "musl"  # musl's libc has the soname "libc.so" (Alpine: libc.musl-<arch>.so.1)
        if any(n == "libc.so.6" or n.startswith("ld-linux") or "/ld-linux" in n for n in names):
            return "glibc"
        if any(f == "libc.so.6" for f in self.version_needs):
            return "glibc"
        return None

    @property
    def needs_exec_stack(self) -> bool:
        """True when loading it asks for an executable stack.

        Explicitly (``PT_GNU_STACK`` with ``PF_X``) or implicitly (no ``PT_GNU_STACK`` on x86,
        whose default stack permission includes execute: glibc ``DEFAULT_STACK_PERMS``).
        """
        if self.gnu_stack_flags is None:
            return self.ident.machine in (EM_386, EM_X86_64)
        return bool(self.gnu_stack_flags & PF_X)


def analyze(source: str | bytes, max_bytes: int = MAX_ELF_BYTES) -> ElfInfo:
    """Read an ELF file (a path, or its bytes) without loading it. Raises :class:`ElfError`."""
    from elftools.elf.elffile import ELFFile

    stream: BinaryIO
    if isinstance(source, bytes):
        stream = io.BytesIO(source)
    else:
        try:
            check_regular(source)  # a FIFO or device named as a library must not block the read
            stream = open(source, "rb")  # closed in the finally below
        except OSError as exc:
            raise ElfError(f"cannot read: {exc.strerror or exc}" if not isinstance(exc, LocalFileError)
                           else str(exc)) from None
    try:
        stream.seek(0, io.SEEK_END)
        if stream.tell() > max_bytes:
            raise ElfError(f"larger than {max_bytes // (1024 * 1024)} MiB; not analysed")
        stream.seek(0)
        info = ElfInfo(read_ident(stream.read(20)))
        stream.seek(0)
        try:
            _fill(info, ELFFile(stream))
        except ElfError:
            raise
        except Exception as exc:  # pyelftools raises ELFError and many others on damaged input
            raise ElfError(f"damaged ELF file ({type(exc).__name__}: {exc})") from None
        return info
    finally:
        stream.close()


def _fill(info: ElfInfo, elf: object) -> None:
    from elftools.elf.dynamic import DynamicSection, DynamicSegment
    from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection

    dynamic: Any = None  # a DynamicSection (names via .dynstr) or, without sections, the DynamicSegment
    for seg in elf.iter_segments():  # type: ignore[attr-defined]
        kind = seg["p_type"]
        if kind == "PT_INTERP":
            info.interpreter = seg.get_interp_name()
        elif kind == "PT_GNU_STACK":
            info.gnu_stack_flags = int(seg["p_flags"])
        elif kind == "PT_DYNAMIC" and isinstance(seg, DynamicSegment):
            dynamic = seg
    for sec in elf.iter_sections():  # type: ignore[attr-defined]
        if isinstance(sec, DynamicSection):
            dynamic = sec  # the section resolves names through .dynstr even when segments lie
        elif isinstance(sec, GNUVerNeedSection):
            for verneed, auxes in sec.iter_versions():
                info.version_needs.setdefault(str(verneed.name), []).extend(str(a.name) for a in auxes)
        elif isinstance(sec, GNUVerDefSection):
            for _verdef, auxes in sec.iter_versions():
                first = next(iter(auxes), None)
                if first is not None:
                    info.version_defs.append(first.name)
    if dynamic is None:
        return
    tag: Any
    for tag in dynamic.iter_tags():
        name = tag.entry.d_tag
        if name == "DT_NEEDED":
            info.needed.append(tag.needed)
        elif name == "DT_SONAME":
            info.soname = tag.soname
        elif name == "DT_RPATH":
            info.rpath += [p for p in tag.rpath.split(":") if p]
        elif name == "DT_RUNPATH":
            info.runpath += [p for p in tag.runpath.split(":") if p]
        elif name == "DT_TEXTREL" or (name == "DT_FLAGS" and tag.entry.d_val & DF_TEXTREL):
            info.textrel = True


_VERSION = re.compile(r"^([A-Z_]+?)_?(\d+(?:\.\d+)*)$")


def split_version(name: str) -> tuple[str, tuple[int, ...]] | None:
    """``GLIBC_2.34`` -> ("GLIBC", (2, 34)); ``GLIBCXX_3.4.30`` -> ("GLIBCXX", (3, 4, 30))."""
    m = _VERSION.match(name)
    if not m:
        return None
    return m.group(1), tuple(int(p) for p in m.group(2).split("."))


def newest(versions: list[str], prefix: str) -> str | None:
    """The highest ``<prefix>_x.y`` in ``versions`` (e.g. the newest GLIBC_ a libc defines)."""
    best: tuple[tuple[int, ...], str] | None = None
    for v in versions:
        parsed = split_version(v)
        if parsed and parsed[0] == prefix and (best is None or parsed[1] > best[0]):
            best = (parsed[1], v)
    return best[1] if best else None
