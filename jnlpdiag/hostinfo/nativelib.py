"""Why a native library would not load into the agent's JVM: static reading first, then a real dlopen.

For each library: its ELF class and machine against the JVM's (:mod:`elf`), the libc it was built
for (glibc vs musl), ``DT_NEEDED`` libraries the loader would not find and symbol versions
(``GLIBC_2.xx``, ``GLIBCXX_3.4.xx``) the host's libraries lack (:mod:`ldpath`), an executable-stack
request, the mount it sits on (``noexec``), SELinux/AppArmor; then ``dlopen`` in a child process
(:mod:`execproof`) for the loader's own error text, mapped to a cause through the signatures in
``data/hostchecks.json``. Static causes explain what the loader's text hides: glibc says "cannot
open shared object file" for a library of another machine.

Libraries come from ``--native-lib``, ``LD_LIBRARY_PATH``, ``-Djava.library.path``, the work dir's
remoting directory and the jar cache (``*.so`` entries inside jars are read from the zip and,
for the host's platform, unpacked into ``java.io.tmpdir`` exactly as JNA/jffi would, then removed).
Everything is bounded (``data/hostchecks.json`` ``jni``).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.hostinfo import elf, execproof, ldpath, mountinfo
from jnlpdiag.hostinfo.data import hostchecks, loader_error_cause
from jnlpdiag.hostinfo.lsm import LsmState
from jnlpdiag.localfile import LocalFileError, check_regular

_LIB_NAME = re.compile(r"\.so(\.\d+)*$")
# Cause ids, most fundamental first: the first one present is "the" cause of a library.
CAUSES = ("no-file", "not-elf", "wrong-class", "wrong-machine", "not-shared-object", "noexec", "permission",
          "libc-mismatch", "missing-dependency", "symbol-version", "execstack", "selinux", "apparmor",
          "missing-symbol", "load-error")
_LIBC_NAMES = {"glibc": "glibc", "musl": "musl libc (Alpine)"}


@dataclass
class HostFacts:
    """What a library must match: the JVM's ELF class/machine and libc, the host's glibc version."""

    reference: str
    ident: elf.ElfIdent
    libc: str | None
    glibc_version: tuple[int, ...] | None

    @property
    def glibc_text(self) -> str | None:
        return ".".join(map(str, self.glibc_version)) if self.glibc_version else None


def host_facts(java: str | None) -> HostFacts:
    """From the JVM launcher's ELF headers (falls back to this interpreter's)."""
    for path in ([os.path.realpath(java)] if java else []) + ["/proc/self/exe"]:
        try:
            info = elf.analyze(path)
        except elf.ElfError:
            continue
        libc = info.libc_flavor
        glibc = None
        try:
            text = os.confstr("CS_GNU_LIBC_VERSION") or ""
        except (ValueError, OSError):
            text = ""
        if text.startswith("glibc "):
            glibc = tuple(int(p) for p in re.findall(r"\d+", text.split()[1])[:3])
            libc = libc or "glibc"
        return HostFacts(path if path != "/proc/self/exe" else os.path.realpath(path), info.ident, libc, glibc)
    raise elf.ElfError("cannot read the ELF header of the JVM or of this interpreter")


@dataclass
class Candidate:
    path: str  # a file on disk, or the jar for jar entries
    origin: str
    entries: list[str] = field(default_factory=list)  # *.so entries when ``path`` is a jar

    @property
    def is_jar(self) -> bool:
        return bool(self.entries)


def _libs_in(directory: str, depth: int, budget: list[int]) -> list[str]:
    found = []
    try:
        with os.scandir(directory) as it:
            for entry in it:
                budget[0] -= 1
                if budget[0] <= 0:
                    break
                try:
                    if entry.is_file() and (_LIB_NAME.search(entry.name) or entry.name.endswith(".jar")):
                        found.append(entry.path)
                    elif depth > 0 and entry.is_dir(follow_symlinks=False):
                        found += _libs_in(entry.path, depth - 1, budget)
                except OSError:
                    continue
    except OSError:
        pass
    return found


def _jar_entries(path: str) -> list[str]:
    try:
        check_regular(path)
        with zipfile.ZipFile(path) as zf:
            return [n for n in zf.namelist() if _LIB_NAME.search(n) and not n.endswith("/")]
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return []


def collect(named: list[str], search: list[tuple[str, str, int]]) -> tuple[list[Candidate], list[str]]:
    """Libraries (and jars holding libraries) from explicit paths and (dir, origin, depth) searches."""
    limits = hostchecks()["jni"]
    budget = [int(limits["max_walk_entries"])]
    seen: set[str] = set()
    out: list[Candidate] = []
    notes: list[str] = []
    jars = 0

    def add(path: str, origin: str) -> None:
        nonlocal jars
        real = os.path.realpath(path)
        if real in seen:
            return
        seen.add(real)
        if path.endswith(".jar"):
            jars += 1
            if jars > limits["max_jars"]:
                return
            entries = _jar_entries(path)
            if entries:
                out.append(Candidate(path, origin, entries))
        else:
            out.append(Candidate(path, origin))

    for path in named:
        if os.path.isdir(path):
            for p in _libs_in(path, 0, budget):
                add(p, "--native-lib")
        else:
            add(path, "--native-lib")  # a missing path is reported, not skipped
    for directory, origin, depth in search:
        for p in _libs_in(directory, depth, budget):
            add(p, origin)
    if budget[0] <= 0:
        notes.append(f"stopped after {limits['max_walk_entries']} directory entries")
    if jars > limits["max_jars"]:
        notes.append(f"looked into the first {limits['max_jars']} jars only")
    return out, notes


@dataclass
class LibReport:
    name: str
    path: str  # on disk (for a jar entry: where it was unpacked, now removed)
    display: str  # what to show: the path, or jar!entry
    origin: str
    ident: elf.ElfIdent | None = None
    info: elf.ElfInfo | None = None
    deps: ldpath.DependencyReport | None = None
    causes: dict[str, str] = field(default_factory=dict)  # cause -> detail, in discovery order
    load: execproof.LoadResult | None = None
    skipped: str | None = None  # could not be examined (permission), with the reason
    mount_point: str | None = None
    values: dict[str, Any] = field(default_factory=dict)  # placeholders for fix texts

    @property
    def cause(self) -> str | None:
        return next((c for c in CAUSES if c in self.causes), None)

    @property
    def blocking(self) -> bool:
        """Would the JVM fail to load it? The real dlopen decides when it ran."""
        if self.load is not None and self.load.dlopen is not None:
            return not self.load.loaded
        return any(c not in ("execstack", "selinux") for c in self.causes)

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"library": self.display, "origin": self.origin}
        if self.ident:
            out["elf"] = self.ident.describe()
        if self.info:
            if self.info.needed:
                out["needed"] = self.info.needed
            out["libc"] = self.info.libc_flavor
            needs = {f: sorted(v) for f, v in self.info.version_needs.items()}
            if needs:
                out["version_needs"] = {f: elf.newest(v, _prefix(v)) or v[-1] for f, v in needs.items() if v}
            if self.info.needs_exec_stack:
                out["exec_stack"] = True
            if self.info.textrel:
                out["textrel"] = True
        if self.deps:
            missing = self.deps.missing
            if missing:
                out["missing"] = [{"name": d.name, "needed_by": d.needed_by} for d in missing]
            if self.deps.missing_versions:
                out["missing_versions"] = [m.__dict__ for m in self.deps.missing_versions]
        if self.mount_point:
            out["mount_point"] = self.mount_point
        if self.load is not None:
            out["dlopen"] = self.load.dlopen if self.load.dlopen is not None else f"not run: {self.load.error}"
        out["cause"] = self.cause
        if self.causes:
            out["causes"] = dict(self.causes)
        return out


def _prefix(versions: list[str]) -> str:
    parsed = [p for v in versions if (p := elf.split_version(v))]
    return parsed[0][0] if parsed else ""


def static_causes(report: LibReport, data: bytes | None, host: HostFacts, resolver: ldpath.Resolver,
                  lsm: LsmState) -> None:
    """Everything that can be read without loading: fills ``report.causes``."""
    values = report.values
    try:
        head = data[:20] if data is not None else _head(report.path)
        report.ident = elf.read_ident(head)
    except PermissionError as exc:
        report.skipped = f"cannot read {report.display}: {exc.strerror}"
        return
    except OSError as exc:
        report.causes["not-elf"] = f"cannot read it: {exc.strerror or exc}"
        values["detail"] = report.causes["not-elf"]
        return
    except elf.ElfError as exc:
        report.causes["not-elf"] = str(exc)
        values["detail"] = str(exc)
        return
    ident = report.ident
    values.update(lib_bits=ident.bits, lib_machine=ident.machine_name, lib_type=ident.type_name)
    if ident.bits != host.ident.bits:
        report.causes["wrong-class"] = f"{ident.bits}-bit library, {host.ident.bits}-bit JVM"
    if ident.machine != host.ident.machine:
        report.causes["wrong-machine"] = f"built for {ident.machine_name}, this JVM is {host.ident.machine_name}"
    if report.causes:
        return  # nothing else can be read reliably for a foreign class/machine
    if ident.elf_type != 3:
        report.causes["not-shared-object"] = f"an ELF {ident.type_name}"
    try:
        report.info = elf.analyze(data if data is not None else report.path, hostchecks()["jni"]["max_entry_bytes"])
    except elf.ElfError as exc:
        report.causes["not-elf"] = str(exc)
        values["detail"] = str(exc)
        return
    info = report.info
    lib_libc = info.libc_flavor
    if lib_libc and host.libc and lib_libc != host.libc:
        values.update(lib_libc=_LIBC_NAMES[lib_libc], host_libc=_LIBC_NAMES[host.libc])
        report.causes["libc-mismatch"] = f"built for {_LIBC_NAMES[lib_libc]}, this host uses {_LIBC_NAMES[host.libc]}"
    report.deps = ldpath.check_dependencies(info, report.path, resolver)
    missing = [d.name for d in report.deps.missing]
    if "libc-mismatch" in report.causes:
        missing = [m for m in missing if "musl" not in m and m not in ("libc.so", "libc.so.6")]
    if missing:
        values.update(missing=", ".join(missing), first_missing=missing[0])
        report.causes["missing-dependency"] = "not found by the loader: " + ", ".join(
            f"{d.name} (needed by {d.needed_by})" for d in report.deps.missing if d.name in missing)
    if report.deps.missing_versions:
        mv = report.deps.missing_versions[0]
        prefix = _prefix(mv.missing)
        values.update(missing_versions=", ".join(m for v in report.deps.missing_versions for m in v.missing),
                      host_newest=", ".join(mv.newest) or "none", library=mv.file, prefix=prefix or "GLIBC")
        report.causes["symbol-version"] = "; ".join(
            f"{v.needed_by} needs {', '.join(v.missing)} from {v.file}, this host's has up to "
            f"{', '.join(v.newest) or 'older versions'}" for v in report.deps.missing_versions)
    if info.needs_exec_stack:
        refuse_from = tuple(hostchecks()["jni"]["glibc_refuses_execstack_from"])
        refused = host.glibc_version is not None and host.glibc_version >= refuse_from
        report.causes["execstack"] = (f"glibc {host.glibc_text} refuses that in dlopen" if refused else
                                      f"glibc {host.glibc_text or '?'} here still allows it; glibc 2.41+ refuses it")
    if info.textrel and lsm.selinux == "enforcing" and not lsm.selinux_booleans.get("selinuxuser_execmod", False):
        report.causes["selinux"] = "has text relocations (TEXTREL); SELinux is enforcing and denies execmod"


def _head(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(20)


def apply_load_result(report: LibReport, lsm: LsmState) -> None:
    """Fold the real dlopen's outcome into the causes."""
    load = report.load
    if load is None:
        return
    if load.dlopen is None:
        if load.error:  # the child crashed or hung inside the loader: so would the JVM
            report.causes.setdefault("load-error", load.error)
            report.values["error"] = load.error
        return
    if load.loaded:
        for cause in ("missing-dependency", "symbol-version", "libc-mismatch"):
            report.causes.pop(cause, None)  # the loader found a way; our static reading was too strict
        return
    text = load.dlopen
    cause = loader_error_cause(text) or "load-error"
    if cause == "permission":
        if lsm.selinux == "enforcing":
            cause = "selinux"
        elif lsm.apparmor_enforcing:
            cause = "apparmor"
            report.values["profile"] = lsm.apparmor_profile
    if cause == "missing-dependency" and report.cause in ("wrong-machine", "wrong-class"):
        return  # glibc's "cannot open shared object file" for a foreign machine: the static cause says why
    if cause == "missing-symbol" or cause == "load-error" or cause not in report.causes:
        report.causes.setdefault(cause, text)
    report.values["error"] = text


async def examine(candidate_path: str, display: str, origin: str, data: bytes | None, host: HostFacts,
                  resolver: ldpath.Resolver, lsm: LsmState, timeout: float, env: dict[str, str]) -> LibReport:
    """Static reading, then dlopen in a child (``candidate_path`` must be a file on disk)."""
    report = LibReport(os.path.basename(display.split("!")[-1]), candidate_path, display, origin)
    directory = os.path.dirname(os.path.abspath(candidate_path))
    report.values.update(name=report.name, path=display if "!" not in display else candidate_path, dir=directory,
                         host_bits=host.ident.bits, host_machine=host.ident.machine_name, java=host.reference)
    if not os.path.exists(candidate_path):
        report.causes["no-file"] = f"{candidate_path} does not exist"
        return report
    try:
        check_regular(candidate_path)  # a FIFO or device must not block the reads below
    except LocalFileError as exc:
        report.causes["not-elf"] = str(exc)
        report.values["detail"] = str(exc)
        return report
    # pyelftools is pure Python: read off the event loop so network probes keep their timing.
    await asyncio.to_thread(static_causes, report, data, host, resolver, lsm)
    if report.skipped:
        return report
    try:
        if os.statvfs(directory).f_flag & os.ST_NOEXEC:
            mount = mountinfo.mount_for(os.path.realpath(directory), mountinfo.read())
            report.mount_point = mount.mount_point if mount else directory
            report.values["mount_point"] = report.mount_point
            report.causes["noexec"] = f"{directory} is on a noexec mount ({report.mount_point})"
    except OSError:
        pass
    report.load = await execproof.run_child("load", candidate_path, timeout, env=env)
    apply_load_result(report, lsm)
    return report


def unpack_entry(jar: str, entry: str, into: str, cap: int) -> tuple[str, bytes]:
    """Copy one jar entry into ``into`` (a private directory); returns (path, bytes)."""
    with zipfile.ZipFile(jar) as zf:
        info = zf.getinfo(entry)
        if info.file_size > cap:
            raise ValueError(f"{entry} is {info.file_size} bytes, over the {cap} byte cap")
        with zf.open(info) as fh:
            data = fh.read(cap + 1)[:cap]
    path = os.path.join(into, os.path.basename(entry))
    with open(path, "wb") as out:
        out.write(data)
    return path, data


@dataclass
class JarReport:
    jar: str
    origin: str
    foreign: dict[str, str] = field(default_factory=dict)  # entry -> what it is built for
    libs: list[LibReport] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    extract_error: str | None = None


async def examine_jar(candidate: Candidate, host: HostFacts, resolver: ldpath.Resolver, lsm: LsmState,
                      timeout: float, env: dict[str, str], unpack_dir: str, per_jar: int = 5) -> JarReport:
    """Sort a jar's libraries into this platform's and others'; examine this platform's for real."""
    report = JarReport(candidate.path, candidate.origin)
    cap = int(hostchecks()["jni"]["max_entry_bytes"])
    mine: list[str] = []
    try:
        with zipfile.ZipFile(candidate.path) as zf:
            for entry in candidate.entries[:200]:
                try:
                    with zf.open(entry) as fh:
                        ident = elf.read_ident(fh.read(20))
                except (elf.ElfError, OSError, zipfile.BadZipFile, RuntimeError) as exc:
                    report.unreadable.append(f"{entry}: {exc}")
                    continue
                if ident.bits == host.ident.bits and ident.machine == host.ident.machine:
                    mine.append(entry)
                else:
                    report.foreign[entry] = f"{ident.bits}-bit {ident.machine_name}"
    except (OSError, zipfile.BadZipFile) as exc:
        report.unreadable.append(f"{candidate.path}: {exc}")
        return report
    if not mine:
        return report
    try:
        private = tempfile.mkdtemp(prefix=".jnlpdiag-jni-", dir=unpack_dir)
    except OSError as exc:
        report.extract_error = f"cannot unpack into {unpack_dir}: {exc.strerror or exc}"
        private = None
    try:
        for entry in mine[:per_jar]:
            display = f"{candidate.path}!{entry}"
            if private is None:
                lib = LibReport(os.path.basename(entry), candidate.path, display, candidate.origin,
                                skipped=report.extract_error)
                report.libs.append(lib)
                continue
            try:
                path, data = await asyncio.to_thread(unpack_entry, candidate.path, entry, private, cap)
            except (OSError, ValueError, zipfile.BadZipFile, RuntimeError) as exc:
                report.unreadable.append(f"{entry}: {exc}")
                continue
            lib = await examine(path, display, candidate.origin, data, host, resolver, lsm, timeout, env)
            lib.values["path"] = candidate.path
            report.libs.append(lib)
            os.unlink(path)
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
    return report
