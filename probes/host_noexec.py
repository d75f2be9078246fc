"""host.noexec: can the agent write, and load native code, where it and its JNI loaders unpack it?

The classic infrastructure failure: ``/tmp`` (or a Kubernetes volume) mounted ``noexec``, so JNA
or jffi unpack their library fine and then ``dlopen`` fails with "failed to map segment from
shared object". For each directory the agent uses (``java.io.tmpdir``, ``/tmp``, ``TMPDIR``, the
work dir and jar cache, JNA's and jffi's extraction directories: see
:func:`jnlpdiag.agent.agent_dirs`) this probe reports the mount (``/proc/self/mountinfo``),
the kernel's flags for the path (``statvfs``: ``noexec``, ``nosuid``, ``ro``), free space and
inodes, writability, and then *proves* the verdict: it writes a tiny shared object there, loads
it in a child process and calls it, and removes it (:mod:`jnlpdiag.hostinfo.execproof`).

Runs unprivileged: a directory it may not inspect is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.agent import AgentDir, agent_dirs
from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.fixcatalog import fix
from jnlpdiag.hostinfo import mountinfo
from jnlpdiag.hostinfo.agentns import agent_namespaces, in_root
from jnlpdiag.hostinfo.data import hostchecks
from jnlpdiag.hostinfo.execproof import ExecProof, prove_exec
from jnlpdiag.hostinfo.units import human_bytes
from jnlpdiag.probe_api import Context, Facts, Probe

_CATALOG = "host_noexec"
# The -D property to name in a fix, per role.
_PROPERTY = {"java.io.tmpdir": "java.io.tmpdir", "jna.tmpdir": "jna.tmpdir", "JNA cache": "jna.tmpdir",
             "jffi.extract.dir": "jffi.extract.dir", "jarCache": "java.io.tmpdir", "workDir": "java.io.tmpdir"}
_WHY_EXEC = {
    "java.io.tmpdir": "jffi unpacks its stub here and JNA falls back to it",
    "JNA cache": "JNA unpacks libjnidispatch here",
    "jna.tmpdir": "JNA unpacks libjnidispatch here",
    "jffi.extract.dir": "jffi unpacks its stub here",
    "jnidispatch.path": "JNA loads libjnidispatch from here",
}


@dataclass
class DirState:
    entry: AgentDir
    exists: bool = False
    inspected: str = ""  # the path statvfs'ed: the directory, or its nearest existing parent
    error: str | None = None
    noexec: bool = False
    nosuid: bool = False
    read_only: bool = False
    free_bytes: int | None = None
    free_inodes: int | None = None
    writable: bool = False
    mount: mountinfo.Mount | None = None
    proof: ExecProof | None = None

    @property
    def exec_refused(self) -> bool:
        return self.noexec or (self.proof is not None and self.proof.verdict == "noexec")

    def evidence(self) -> dict[str, Any]:
        e = self.entry
        out: dict[str, Any] = {"path": e.path, "roles": e.roles, "origins": e.origins, "exists": self.exists}
        if self.inspected != e.path:
            out["inspected"] = self.inspected
        if self.mount is not None:
            out["mount"] = self.mount.to_dict()
        out["flags"] = [f for f, on in (("noexec", self.noexec), ("nosuid", self.nosuid), ("ro", self.read_only)) if on]
        for key, value in (("free_bytes", self.free_bytes), ("free_inodes", self.free_inodes)):
            if value is not None:
                out[key] = value
        out["writable"] = self.writable
        if self.proof is not None:
            out["proof"] = self.proof.to_dict()
        return out


def _nearest_existing(path: str) -> tuple[str, bool]:
    """(path or its nearest existing parent, whether ``path`` itself exists).

    A component we may not search raises PermissionError: "cannot see" is not "does not exist".
    """
    here = path
    while True:
        try:
            os.stat(here)
            return here, here == path
        except FileNotFoundError:
            if here == os.path.dirname(here):
                raise
            here = os.path.dirname(here)


async def inspect_dir(entry: AgentDir, mounts: list[mountinfo.Mount], timeout: float, root: str = "/") -> DirState:
    """``root``: where the agent's filesystem is reached from here (``/proc/<pid>/root`` when the agent
    lives in another mount namespace; the kernel applies the agent's mount flags to paths under it)."""
    state = DirState(entry)
    try:
        here, state.exists = _nearest_existing(in_root(root, entry.path))
        # Symlinks inside another mount namespace resolve against its root, not ours: not followed.
        real = os.path.realpath(here) if root == "/" else here
        rel = os.path.relpath(here, root)
        state.inspected = here if root == "/" else "/" if rel == "." else "/" + rel
        st = os.stat(real)
        vfs = os.statvfs(real)
    except OSError as exc:
        state.error = f"{exc.strerror or exc} (errno {exc.errno})"
        return state
    state.noexec = bool(vfs.f_flag & os.ST_NOEXEC)
    state.nosuid = bool(vfs.f_flag & os.ST_NOSUID)
    state.read_only = bool(vfs.f_flag & os.ST_RDONLY)
    state.free_bytes = vfs.f_bavail * vfs.f_frsize
    state.free_inodes = vfs.f_favail if vfs.f_files else None  # some filesystems report no inodes
    state.mount = mountinfo.mount_for(real if root == "/" else state.inspected, mounts, st.st_dev)
    state.writable = not state.read_only and os.access(real, os.W_OK | os.X_OK)
    if state.exists and state.writable:
        state.proof = await prove_exec(real, timeout)
    return state


def _slug(role: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", role.lower()).strip("-") or "tmp"


def _suggest(states: list[DirState], home: str) -> str:
    """An exec-capable place for native code: under the work dir or home, if they qualify."""
    for s in states:
        if "workDir" in s.entry.roles and s.exists and s.proof is not None and s.proof.verdict == "exec":
            return os.path.join(s.entry.path, "tmp")
    for base in (home, "/var/tmp"):
        try:
            vfs = os.statvfs(base)
        except OSError:
            continue
        if not vfs.f_flag & (os.ST_NOEXEC | os.ST_RDONLY):
            return os.path.join(base, "jenkins-tmp" if base == "/var/tmp" else "tmp")
    return "<a directory on an exec-capable mount>"


@dataclass
class Verdict:
    status: Status = Status.PASS
    title: str = ""
    notes: list[str] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)

    def raise_to(self, status: Status, title: str, note: str, fixes: list[Fix] | None = None) -> None:
        if status.severity > self.status.severity or not self.title:
            self.status, self.title = status, title
        self.notes.append(note)
        self.fixes += fixes or []


def judge(s: DirState, suggest: str) -> Verdict:
    e = s.entry
    label = f"{e.role} {e.path}" if e.role != e.path else e.path
    mount_point = s.mount.mount_point if s.mount else s.inspected
    values = {"path": e.path, "mount_point": mount_point, "suggest": suggest, "uid": os.geteuid(),
              "prop": _PROPERTY.get(e.role, "java.io.tmpdir"), "origin": ", ".join(e.origins),
              "free": human_bytes(s.free_bytes)}
    v = Verdict()
    why = "; ".join(_WHY_EXEC[r] for r in e.roles if r in _WHY_EXEC)
    if s.exists and not os.path.isdir(s.inspected):
        v.raise_to(Status.FAIL, f"{label} is a file, not a directory", f"Configured by {values['origin']}.",
                   [fix(_CATALOG, "missing", **values)])
        return v
    if not s.exists:
        creatable = os.access(s.inspected, os.W_OK | os.X_OK) and not s.read_only
        if e.needs_exec and s.exec_refused:
            v.raise_to(Status.FAIL, f"{label} would be created on a noexec mount ({mount_point})",
                       f"It does not exist yet; {why}, and {mount_point} is mounted noexec.",
                       [fix(_CATALOG, "noexec_native", **values)])
        elif not creatable and (e.needs_write or not e.may_be_missing):
            v.raise_to(Status.FAIL, f"{label} does not exist and cannot be created",
                       f"{s.inspected} is not writable for uid {os.geteuid()}; the agent needs {e.path}.",
                       [fix(_CATALOG, "missing", **values)])
        elif not e.may_be_missing:
            v.raise_to(Status.FAIL, f"{label} does not exist",
                       f"Configured by {values['origin']}; temporary files cannot be created there.",
                       [fix(_CATALOG, "missing", **values)])
        elif creatable:
            v.raise_to(Status.PASS, f"{label} does not exist yet; it can be created on {mount_point}",
                       "Created on first use.")
        else:
            # Title and detail say the same thing: it cannot be created, and that is allowed here.
            fallback = ("JNA falls back to java.io.tmpdir (checked separately)" if "JNA" in e.role
                        else "the agent does without it")
            v.raise_to(Status.PASS, f"{label} does not exist and cannot be created; {fallback}",
                       f"{s.inspected} is not writable for uid {os.geteuid()}, so {e.path} cannot be created; "
                       f"{fallback}.")
        return v
    if s.exec_refused:
        if e.needs_exec:
            v.raise_to(Status.FAIL, f"{label} is on a noexec mount ({mount_point}): native libraries cannot load",
                       f"{why or 'native code is loaded from here'}; the kernel refuses to map files there "
                       "for execution (UnsatisfiedLinkError: failed to map segment from shared object).",
                       [fix(_CATALOG, "noexec_native", **values)])
        elif e.roles == ["/tmp"] or set(e.roles) <= {"/tmp", "TMPDIR"}:
            v.raise_to(Status.WARN, f"{label} is on a noexec mount ({mount_point})",
                       "The agent JVM unpacks native code elsewhere, but build steps that run programs from "
                       "here will fail with 'Permission denied'.", [fix(_CATALOG, "noexec_tmp", **values)])
        elif "workDir" in e.roles:
            v.raise_to(Status.WARN, f"{label} is on a noexec mount ({mount_point})",
                       "Builds cannot run programs they create or download into the workspace.",
                       [fix(_CATALOG, "noexec_other", **values)])
        else:
            v.raise_to(Status.PASS, f"{label} is on a noexec mount ({mount_point}); it only holds jars",
                       "Only written and read, never executed.")
    if e.needs_write and not s.writable:
        key = "read_only" if s.read_only else "not_writable"
        v.raise_to(Status.FAIL, f"{label} is not writable" + (" (read-only mount)" if s.read_only else ""),
                   f"The agent writes here ({', '.join(e.origins)}); uid {os.geteuid()} cannot.",
                   [fix(_CATALOG, key, **values)])
    proof = s.proof
    if proof is not None and proof.verdict == "unknown" and e.needs_exec and not s.exec_refused:
        reason = proof.write_error or proof.result.error or proof.result.dlopen or proof.result.mmap_exec
        v.raise_to(Status.WARN, f"Native code did not load from {label}", f"The probe library failed: {reason}",
                   [fix(_CATALOG, "load_failed", **values)])
    limits = hostchecks()["noexec"]
    if (s.free_bytes is not None and s.free_bytes < limits["min_free_bytes"]) or (
            s.free_inodes is not None and s.free_inodes < limits["min_free_inodes"]):
        v.raise_to(Status.WARN, f"{label} is almost full ({human_bytes(s.free_bytes)}, {s.free_inodes} inodes free)",
                   "Jar cache, resources and unpacked libraries need room.", [fix(_CATALOG, "low_space", **values)])
    if not v.title:
        if proof is not None and proof.verdict == "exec":
            v.raise_to(Status.PASS, f"{label}: native code loads ({mount_point}, {s.mount.fstype if s.mount else '?'})",
                       f"A probe library was written, loaded and called ({proof.method}), then removed.")
        elif s.writable:
            v.raise_to(Status.PASS, f"{label}: writable, exec allowed ({mount_point})", "")
        else:
            v.raise_to(Status.PASS, f"{label}: exec allowed ({mount_point}); not writable by this user",
                       "Not needed for its role.")
    return v


@dataclass
class HostNoexecFacts(Facts):
    """The directories the agent writes to, as judged."""

    directories: list[dict[str, Any]] = field(default_factory=list)
    java_io_tmpdir: str | None = None
    java_io_tmpdir_noexec: bool | None = None
    exec_capable_suggestion: str | None = None  # a directory where native code does load


class HostNoexecProbe(Probe[HostNoexecFacts]):
    id = "host.noexec"
    layer = Layer.HOST
    description = "Temp, work and JNI extraction directories: mount options, space, and a real native-code load"

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        view = ctx.agent
        dirs = agent_dirs(view)
        root: str | None = "/"
        whose: int | str = "self"
        if view.pid is not None:
            ns = agent_namespaces(view.pid)
            if ns.differs("mnt"):  # a debug container or the node: judge the agent's mounts, not ours
                root, whose = ns.root, view.pid
        if root is None:
            yield ctx.finding(
                f"{self.id}.namespace", Status.SKIP,
                f"Agent process {view.pid} has its own mount namespace and its files are not readable from here",
                detail="Its temp and work directories can only be judged through /proc/<pid>/root, which needs the "
                       "agent's user or CAP_SYS_PTRACE (kubectl debug --profile=general), or run jnlpdiag inside "
                       "the agent's container.", evidence={"pid": view.pid})
            return
        try:
            mounts = mountinfo.read(whose)
        except OSError:
            mounts = []  # hidepid or a locked-down /proc: statvfs still gives the flags
        timeout = ctx.step_timeout(cap=15)
        states = await asyncio.gather(*(inspect_dir(d, mounts, timeout, root) for d in dirs))
        suggest = _suggest(list(states), view.user_home)
        published = []
        for s in states:
            fid = f"{self.id}.{_slug(s.entry.role)}"
            if s.error is not None:
                yield ctx.finding(
                    fid, Status.SKIP, f"Cannot inspect {s.entry.role} {s.entry.path}: {s.error}",
                    detail=f"jnlpdiag runs as uid {os.geteuid()}; run it as the agent's user (or root) to check "
                           "this directory.",
                    evidence={"path": s.entry.path, "roles": s.entry.roles, "error": s.error},
                )
                continue
            v = judge(s, suggest)
            yield ctx.finding(fid, v.status, v.title, detail=" ".join(n for n in v.notes if n),
                              evidence=s.evidence(), fixes=v.fixes)
            published.append({"path": s.entry.path, "roles": s.entry.roles, "exists": s.exists,
                              "noexec": s.exec_refused, "writable": s.writable,
                              "proof": s.proof.verdict if s.proof else None})
        tmpdir = next((s for s in states if "java.io.tmpdir" in s.entry.roles), None)
        ctx.publish(directories=published, java_io_tmpdir=tmpdir.entry.path if tmpdir else None,
                    java_io_tmpdir_noexec=tmpdir.exec_refused if tmpdir else None, exec_capable_suggestion=suggest)
