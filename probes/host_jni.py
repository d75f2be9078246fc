"""host.jni: will the native libraries the agent loads actually load on this host?

A JNI library that fails to load rarely stops the connection; it breaks a plugin or a build step
later with ``UnsatisfiedLinkError`` and a loader message that often hides the cause (glibc says
"cannot open shared object file" for a library built for another CPU). For every library named
with ``--native-lib``, found on ``LD_LIBRARY_PATH`` or ``-Djava.library.path``, under the work
dir's remoting directory or in the jar cache (including ``*.so`` inside jars), this probe names
the cause: wrong ELF class or machine, musl vs glibc, missing ``DT_NEEDED`` libraries, symbol
versions newer than the host's glibc/libstdc++, an executable-stack request, a ``noexec`` mount,
SELinux/AppArmor, and confirms it with a real ``dlopen`` in a child process
(:mod:`jnlpdiag.hostinfo.nativelib`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.agent import agent_dirs, jvm_library_dirs
from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.fixcatalog import fix
from jnlpdiag.hostinfo import ldpath, nativelib
from jnlpdiag.hostinfo.data import hostchecks
from jnlpdiag.hostinfo.elf import ElfError
from jnlpdiag.hostinfo.lsm import read_lsm
from jnlpdiag.probe_api import Context, Facts, Option, Probe

from .host_java import HostJavaProbe
from .host_noexec import HostNoexecProbe

_CATALOG = "host_jni"
_CAUSE_TITLE = {
    "no-file": "is missing",
    "not-elf": "is not an ELF library",
    "wrong-class": "has the wrong ELF class for this JVM",
    "wrong-machine": "is built for another CPU",
    "not-shared-object": "is not a shared library",
    "noexec": "sits on a noexec mount",
    "permission": "cannot be read or mapped (permission denied)",
    "libc-mismatch": "is built for another C library",
    "missing-dependency": "needs libraries this host lacks",
    "symbol-version": "needs newer symbol versions than this host's libraries have",
    "execstack": "asks for an executable stack",
    "selinux": "is blocked by SELinux",
    "apparmor": "is blocked by AppArmor",
    "missing-symbol": "needs a symbol this host's libraries lack",
    "load-error": "does not load",
}


def _finding_for(ctx: Context, fid: str, lib: nativelib.LibReport, extra: dict[str, Any],
                 noexec_root: str | None = None) -> Finding:
    if lib.skipped:
        return ctx.finding(fid, Status.SKIP, f"{lib.name}: not examined ({lib.skipped})",
                           detail="Run jnlpdiag as the agent's user (or root) to read it.",
                           evidence={"library": lib.display, "reason": lib.skipped})
    cause = lib.cause
    evidence = {**lib.evidence(), **extra}
    if cause is None:
        glibc = evidence.get("version_needs", {}).get("libc.so.6")
        needs = f", needs {glibc}" if glibc else ""
        machine = lib.ident.machine_name if lib.ident else "?"
        return ctx.finding(fid, Status.PASS, f"{lib.name} loads ({machine}{needs})",
                           detail="dlopen in a child process succeeded.", evidence=evidence)
    status = Status.FAIL if lib.blocking else Status.WARN
    title = f"{lib.name} {_CAUSE_TITLE[cause]}: {lib.causes[cause]}"
    others = [f"{c}: {d}" for c, d in lib.causes.items() if c != cause]
    detail = (f"The JVM would fail with UnsatisfiedLinkError loading {lib.display}."
              if status is Status.FAIL else f"{lib.display} loads here today, but:") + (
        (" Also: " + "; ".join(others)) if others else "")
    if lib.load is not None and lib.load.dlopen and not lib.load.loaded:
        detail += f" dlopen said: {lib.load.dlopen}"
    fixes = [fix(_CATALOG, c, **lib.values) for c in nativelib.CAUSES if c in lib.causes][:3]
    caused_by = noexec_root if cause == "noexec" else None
    return ctx.finding(fid, status, title, detail=detail, evidence=evidence, fixes=fixes, caused_by=caused_by)


@dataclass
class HostJniFacts(Facts):
    """The native libraries found, and the platform they must fit."""

    libraries: list[str] = field(default_factory=list)
    host_machine: str | None = None
    host_libc: str | None = None
    glibc: str | None = None


class HostJniProbe(Probe[HostJniFacts]):
    id = "host.jni"
    layer = Layer.HOST
    description = "Native (JNI) libraries the agent loads: CPU, libc, dependencies, symbol versions, a real dlopen"
    after = ("host.java", "host.noexec")
    options = (Option("native_lib", "native library the agent loads (repeatable)", kind="paths", metavar="PATH",
                      default=()),)

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        view = ctx.agent
        java_facts = ctx.facts(HostJavaProbe)
        java = java_facts.java_executable or (view.java.executable if view.java else None)
        java_home = java_facts.java_home or view.java_home
        try:
            host = nativelib.host_facts(java)
        except ElfError as exc:
            yield ctx.finding(self.id, Status.SKIP, "Cannot tell this host's ELF platform", detail=str(exc))
            return
        lsm = read_lsm(view.proc)

        # Where the agent's libraries can come from.
        ld_path = [d for d in view.env.get("LD_LIBRARY_PATH", "").split(":") if d]
        search: list[tuple[str, str, int]] = [(d, "LD_LIBRARY_PATH", 0) for d in ld_path]
        if view.props.get("java.library.path"):
            search += [(view.abspath(d), "-Djava.library.path", 0)
                       for d in view.props["java.library.path"].split(":") if d]
        dirs = agent_dirs(view)
        for d in dirs:
            if "jarCache" in d.roles:
                search.append((d.path, "jar cache", 3))
        workdir = view.workdir
        if workdir:  # not the workspaces: builds' own libraries are not the agent's
            search.append((workdir, "workDir", 0))
            search.append((os.path.join(workdir, "remoting"), "workDir/remoting", 4))
        named = [os.path.abspath(p) for p in ctx.option("native_lib") or ()]  # --native-lib: relative to here
        candidates, notes = await asyncio.to_thread(nativelib.collect, named, search)

        limits = hostchecks()["jni"]
        glibc = host.libc == "glibc"
        resolver = ldpath.Resolver(
            ld_library_path=ld_path, jvm_dirs=jvm_library_dirs(java_home),
            cache=await asyncio.to_thread(ldpath.ld_cache) if glibc else {},
            default_dirs=None if glibc or host.libc is None else ldpath.musl_dirs(os.uname().machine),
            platform=os.uname().machine,
        )
        # The child loads with what a JVM has: the agent's LD_LIBRARY_PATH plus the JVM's own libraries.
        env = view.child_env(LD_LIBRARY_PATH=":".join([*ld_path, *resolver.jvm_dirs]))
        unpack_dir = view.abspath(view.props.get("java.io.tmpdir") or "/tmp")
        # A library unpacked into a noexec java.io.tmpdir fails because of that directory.
        noexec_root = next((f.id for f in ctx.findings_of("host.noexec")
                            if f.status is Status.FAIL and f.evidence.get("path") == unpack_dir), None)
        suggest = ctx.facts(HostNoexecProbe).exec_capable_suggestion or "<a directory on an exec-capable mount>"
        timeout = ctx.step_timeout(cap=15)
        gate = asyncio.Semaphore(4)

        async def one(c: nativelib.Candidate) -> nativelib.LibReport | nativelib.JarReport:
            async with gate:
                if c.is_jar:
                    return await nativelib.examine_jar(c, host, resolver, lsm, timeout, env, unpack_dir)
                return await nativelib.examine(c.path, c.path, c.origin, None, host, resolver, lsm, timeout, env)

        chosen = candidates[: limits["max_libraries"]]
        if len(candidates) > len(chosen):
            notes.append(f"examined the first {len(chosen)} of {len(candidates)} libraries/jars")
        results = await asyncio.gather(*(one(c) for c in chosen))

        context = {
            "jvm": host.reference, "elf": host.ident.describe(), "libc": host.libc, "glibc": host.glibc_text,
            "selinux": lsm.to_dict(),
            "searched": [f"{d} ({o})" for d, o, _ in search] + [f"{p} (--native-lib)" for p in named],
        }
        if notes:
            context["limits"] = notes
        yield ctx.finding(
            self.id, Status.PASS if chosen else Status.SKIP,
            f"{len(chosen)} native librar{'y' if len(chosen) == 1 else 'ies'}/jars to check on "
            f"{host.ident.machine_name}"
            f" ({host.libc or 'unknown libc'} {host.glibc_text or ''}, SELinux {lsm.selinux}"
            f"{', AppArmor ' + lsm.apparmor_profile if lsm.apparmor_profile else ''})".replace(" ,", ","),
            detail="" if chosen else "No native library was named or found. Name the ones your plugins or builds "
                                     "load with --native-lib PATH (repeatable; a directory or a jar works too).",
            evidence=context,
        )
        for result in results:
            extra = {"suggest": suggest}
            if isinstance(result, nativelib.LibReport):
                result.values.setdefault("suggest", suggest)
                yield _finding_for(ctx, f"{self.id}.{result.name}", result, {})
                continue
            jar_name = os.path.basename(result.jar)
            for lib in result.libs:
                lib.values.setdefault("suggest", suggest)
                yield _finding_for(ctx, f"{self.id}.{jar_name}!{lib.name}", lib,
                                   {"jar": result.jar, "other_platforms": sorted(set(result.foreign.values()))},
                                   noexec_root)
            if not result.libs and result.foreign:
                platforms = ", ".join(sorted(set(result.foreign.values())))
                yield ctx.finding(
                    f"{self.id}.{jar_name}", Status.WARN,
                    f"{jar_name} has native code only for {platforms}, none for {host.ident.machine_name}",
                    detail="Whatever loads it here gets UnsatisfiedLinkError.",
                    evidence={"jar": result.jar, "origin": result.origin, "entries": result.foreign,
                              "cause": "wrong-machine", **extra},
                    fixes=[fix(_CATALOG, "jar-no-platform", name=jar_name, path=result.jar, platforms=platforms,
                               host_machine=host.ident.machine_name)],
                )
        ctx.publish(libraries=[r.display for r in results if isinstance(r, nativelib.LibReport)],
                    host_machine=host.ident.machine_name, host_libc=host.libc, glibc=host.glibc_text)

