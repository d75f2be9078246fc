"""The agent's namespaces, judged from outside: which ones it shares with jnlpdiag, and how to read
its files when it does not.

A debug container (``kubectl debug --target``) or the node sees the agent's processes but not its
filesystem: the agent's mounts are in ``/proc/<pid>/mountinfo`` and its files under
``/proc/<pid>/root`` (the kernel resolves that path in the agent's mount namespace; reading it needs
the agent's user or ``CAP_SYS_PTRACE``). Its network namespace decides the routes, DNS and egress
policy its connections see (``/proc/<pid>/ns/net``). Namespace identity is the inode behind
``/proc/<pid>/ns/<kind>`` (``namespaces(7)``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.pycompat import Timeouts

KINDS = ("mnt", "net", "pid", "user", "uts")


def namespace_id(pid: int | str, kind: str) -> str | None:
    """``net:[4026531840]`` for ``/proc/<pid>/ns/net``; None when unreadable."""
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


@dataclass
class AgentNamespaces:
    pid: int
    ids: dict[str, str | None] = field(default_factory=dict)
    shared: dict[str, bool | None] = field(default_factory=dict)  # None: could not tell
    root: str | None = None  # where the agent's filesystem is readable from here; None if it is not

    def differs(self, kind: str) -> bool:
        return self.shared.get(kind) is False

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "namespaces": self.ids, "shared_with_jnlpdiag": self.shared, "root": self.root}


def agent_namespaces(pid: int) -> AgentNamespaces:
    ns = AgentNamespaces(pid)
    for kind in KINDS:
        theirs, mine = namespace_id(pid, kind), namespace_id("self", kind)
        ns.ids[kind] = theirs
        ns.shared[kind] = None if theirs is None or mine is None else theirs == mine
    ns.root = agent_root(pid, ns.shared.get("mnt"))
    return ns


def agent_root(pid: int | None, same_mounts: bool | None = True) -> str | None:
    """Where the agent's ``/`` is readable from here: ``/`` in the same mount namespace, else
    ``/proc/<pid>/root`` when this process may read it, else None."""
    if pid is None or same_mounts:
        return "/"
    root = f"/proc/{pid}/root"
    try:
        os.listdir(root)
    except OSError:
        return None
    return root


def in_root(root: str, path: str) -> str:
    """``path`` as the agent names it, reachable from here through ``root``."""
    return path if root == "/" else os.path.join(root, path.lstrip("/"))


# Run in a child (``python -I -S``): setns(2) into the agent's network namespace (CLONE_NEWNET
# 0x40000000, needs CAP_SYS_ADMIN), then one TCP connect. Standard library only. Name resolution
# still uses jnlpdiag's /etc/resolv.conf and /etc/hosts (only the network namespace is entered).
_CONNECT_CHILD = """
import ctypes, os, socket, sys
pid, host, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/proc/%s/ns/net" % pid, os.O_RDONLY)
if libc.setns(fd, 0x40000000) != 0:
    print("setns: " + os.strerror(ctypes.get_errno()))
    sys.exit(0)
try:
    socket.create_connection((host, port), timeout).close()
    print("connected")
except socket.timeout:
    print("timed out")
except OSError as exc:
    print(exc.strerror or str(exc))
"""


def connect_in_netns(pid: int, host: str, port: int, timeout: float) -> str:
    """``connected`` or the error text of a TCP connect to host:port from ``pid``'s network namespace."""
    import subprocess
    import sys

    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", _CONNECT_CHILD, str(pid), host, str(port), str(timeout)],
                              capture_output=True, text=True, timeout=timeout + 10)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not run the check: {exc}"
    return (done.stdout.strip().splitlines() or [done.stderr.strip()[-200:] or f"exit {done.returncode}"])[-1]


def connect_here(host: str, port: int, timeout: float) -> str:
    import socket

    try:
        socket.create_connection((host, port), timeout).close()
        return "connected"
    except Timeouts:
        return "timed out"
    except OSError as exc:
        return exc.strerror or str(exc)


# Run in a child (``python -I -S``): setns(2) into the agent's mount namespace (CLONE_NEWNS
# 0x00020000; needs CAP_SYS_ADMIN and CAP_SYS_CHROOT, and a single-threaded caller, which a fresh
# child is), then exec the agent's java there: the JVM, its libraries, java.security and cacerts
# are the agent's own.
_JAVA_CHILD = """
import ctypes, os, sys
pid, java = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/proc/%s/ns/mnt" % pid, os.O_RDONLY)
if libc.setns(fd, 0x00020000) != 0:
    print("setns: " + os.strerror(ctypes.get_errno()), file=sys.stderr)
    sys.exit(97)
os.chdir("/")
os.execv(java, [java, "-XshowSettings:properties", "-version"])
"""


def java_version_in_mount_ns(pid: int, java: str, timeout: float) -> tuple[str | None, str]:
    """(``java.version`` of ``java`` run inside ``pid``'s mount namespace, or None; what happened)."""
    import subprocess
    import sys

    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", _JAVA_CHILD, str(pid), java],
                              capture_output=True, text=True, timeout=timeout, env={"PATH": "/usr/bin:/bin"})
    except subprocess.TimeoutExpired:
        return None, f"did not answer within {timeout:g} s"
    except OSError as exc:
        return None, f"could not run: {exc}"
    for line in done.stderr.splitlines():
        key, _, value = line.strip().partition(" = ")
        if key == "java.version":
            return value.strip(), "run inside the agent's mount namespace"
    tail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return None, tail[:200]
