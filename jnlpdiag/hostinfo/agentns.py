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
