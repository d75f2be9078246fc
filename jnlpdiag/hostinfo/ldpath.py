"""Find a library by name the way the dynamic loader would, without loading anything.

Search order of glibc's ld.so (``ld.so(8)``, "Dynamic library search order"): ``DT_RPATH`` of the
loading object (only when it has no ``DT_RUNPATH``), ``LD_LIBRARY_PATH``, ``DT_RUNPATH``,
``/etc/ld.so.cache`` (read through ``ldconfig -p``), then the default directories. ``$ORIGIN``,
``$LIB`` and ``$PLATFORM`` are expanded as ld.so does. A candidate of another ELF class or machine
is passed over, as ld.so does. musl reads ``/etc/ld-musl-<arch>.path`` instead of a cache
(musl ``ldso/dynlink.c``), with ``/lib:/usr/local/lib:/usr/lib`` as the default.

Inside a JVM, the JVM's own libraries (``libjvm.so``, ``libjava.so``, ...) are already loaded, so a
JNI library that names them in ``DT_NEEDED`` finds them by soname; ``jvm_dirs`` stands for that.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

from jnlpdiag.hostinfo.elf import ElfError, ElfIdent, ElfInfo, analyze, read_ident_file

_LDCONFIG_LINE = re.compile(r"^\s+(\S+) \(([^)]*)\) => (.+)$")
_DEFAULT_DIRS_64 = ("/lib64", "/usr/lib64", "/lib", "/usr/lib")
_DEFAULT_DIRS_32 = ("/lib", "/usr/lib")
_MUSL_DEFAULT = ("/lib", "/usr/local/lib", "/usr/lib")


def ld_cache(timeout: float = 5.0) -> dict[str, list[str]]:
    """``/etc/ld.so.cache`` as name -> paths, via ``ldconfig -p`` (empty when unavailable)."""
    exe = shutil.which("ldconfig", path=os.pathsep.join([os.environ.get("PATH", ""), "/sbin", "/usr/sbin"]))
    if exe is None:
        return {}
    try:
        out = subprocess.run([exe, "-p"], capture_output=True, timeout=timeout, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    cache: dict[str, list[str]] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        m = _LDCONFIG_LINE.match(line)
        if m:
            cache.setdefault(m.group(1), []).append(m.group(3))
    return cache


def musl_dirs(machine: str) -> list[str]:
    """musl's search path: ``/etc/ld-musl-<arch>.path`` (colon/newline separated), else its default."""
    for path in glob.glob(f"/etc/ld-musl-{machine}*.path"):
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read(65536)
        except OSError:
            continue
        return [d for d in re.split(r"[:\n]", text) if d.strip()]
    return list(_MUSL_DEFAULT)


def expand_tokens(entry: str, origin: str, bits: int, platform: str) -> str:
    """``$ORIGIN``/``${ORIGIN}``, ``$LIB`` and ``$PLATFORM`` as ld.so expands them."""
    lib = "lib64" if bits == 64 else "lib"
    for token, value in (("ORIGIN", origin), ("LIB", lib), ("PLATFORM", platform)):
        entry = entry.replace("${" + token + "}", value).replace("$" + token, value)
    return entry


@dataclass
class Resolver:
    ld_library_path: list[str] = field(default_factory=list)
    jvm_dirs: list[str] = field(default_factory=list)
    cache: dict[str, list[str]] = field(default_factory=dict)
    default_dirs: list[str] | None = None
    platform: str = ""
    _idents: dict[str, ElfIdent | None] = field(default_factory=dict)
    _infos: dict[str, ElfInfo | None] = field(default_factory=dict)  # providers are shared by many libraries

    def info(self, path: str) -> ElfInfo | None:
        """The analysed ELF at ``path`` (cached; None when unreadable)."""
        if path not in self._infos:
            try:
                self._infos[path] = analyze(path)
            except ElfError:
                self._infos[path] = None
        return self._infos[path]

    def _compatible(self, path: str, want: ElfIdent) -> bool:
        if path not in self._idents:
            try:
                self._idents[path] = read_ident_file(path)
            except (OSError, ElfError):
                self._idents[path] = None
        got = self._idents[path]
        return got is not None and got.bits == want.bits and got.machine == want.machine

    def _dirs(self, loader: ElfInfo, loader_dir: str) -> Iterable[tuple[str, str]]:
        bits = loader.ident.bits

        def expand(entries: list[str]) -> list[str]:
            return [expand_tokens(e, loader_dir, bits, self.platform) for e in entries]

        yield from (("JVM (already loaded)", d) for d in self.jvm_dirs)
        if not loader.runpath:
            yield from (("DT_RPATH", d) for d in expand(loader.rpath))
        yield from (("LD_LIBRARY_PATH", d) for d in self.ld_library_path if d)
        yield from (("DT_RUNPATH", d) for d in expand(loader.runpath))

    def find(self, name: str, loader: ElfInfo, loader_dir: str) -> tuple[str, str] | None:
        """(path, where it was found) of ``name`` as needed by ``loader``, or None."""
        want = loader.ident
        if "/" in name:
            return (name, "path") if os.path.isfile(name) and self._compatible(name, want) else None
        for where, directory in self._dirs(loader, loader_dir):
            path = os.path.join(directory, name)
            if os.path.isfile(path) and self._compatible(path, want):
                return path, where
        for path in self.cache.get(name, []):
            if os.path.isfile(path) and self._compatible(path, want):
                return path, "ld.so.cache"
        defaults = self.default_dirs
        if defaults is None:
            defaults = list(_DEFAULT_DIRS_64 if want.bits == 64 else _DEFAULT_DIRS_32)
        for directory in defaults:
            path = os.path.join(directory, name)
            if os.path.isfile(path) and self._compatible(path, want):
                return path, "default directories"
        return None


@dataclass
class Dependency:
    name: str
    needed_by: str
    path: str | None
    found_in: str | None


@dataclass
class MissingVersion:
    file: str  # the needed file, e.g. libc.so.6
    path: str  # where it was found on this host
    needed_by: str
    missing: list[str]
    newest: list[str]  # the newest versions the host's file defines, per prefix


@dataclass
class DependencyReport:
    dependencies: list[Dependency] = field(default_factory=list)
    missing_versions: list[MissingVersion] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    truncated: bool = False

    @property
    def missing(self) -> list[Dependency]:
        return [d for d in self.dependencies if d.path is None]


def check_dependencies(root: ElfInfo, root_path: str, resolver: Resolver, limit: int = 64) -> DependencyReport:
    """Walk ``DT_NEEDED`` breadth-first from ``root``: what is missing, and missing symbol versions."""
    from jnlpdiag.hostinfo.elf import newest, split_version

    report = DependencyReport()
    queue: list[tuple[ElfInfo, str]] = [(root, root_path)]
    seen_names: set[str] = set()

    def info_of(path: str) -> ElfInfo | None:
        info = resolver.info(path)
        if info is None and path not in report.unreadable:
            report.unreadable.append(path)
        return info

    while queue:
        loader, loader_path = queue.pop(0)
        loader_dir = os.path.dirname(os.path.abspath(loader_path))
        found_paths: dict[str, str] = {}
        for name in loader.needed:
            hit = resolver.find(name, loader, loader_dir)
            if name not in seen_names:
                seen_names.add(name)
                report.dependencies.append(Dependency(name, os.path.basename(loader_path), hit[0] if hit else None,
                                                      hit[1] if hit else None))
                if hit and len(seen_names) < limit:
                    dep = info_of(hit[0])
                    if dep is not None:
                        queue.append((dep, hit[0]))
                elif hit:
                    report.truncated = True
            if hit:
                found_paths[name] = hit[0]
        for file, versions in loader.version_needs.items():
            path = found_paths.get(file)
            if path is None:
                continue  # reported as a missing dependency
            provider = info_of(path)
            if provider is None:
                continue
            missing = sorted(set(versions) - set(provider.version_defs))
            if missing:
                prefixes = sorted({p[0] for v in missing if (p := split_version(v))})
                tops = [t for p in prefixes if (t := newest(provider.version_defs, p))]
                report.missing_versions.append(MissingVersion(file, path, os.path.basename(loader_path), missing, tops))
    return report
