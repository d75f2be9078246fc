"""SELinux and AppArmor state that can stop native code from loading.

SELinux (kernel ``Documentation/admin-guide/LSM/SELinux.rst``; selinuxfs): ``/sys/fs/selinux/enforce``
is ``1`` (enforcing) or ``0`` (permissive); ``/sys/fs/selinux/booleans/<name>`` holds
"<current> <pending>". The ``deny_execmem`` / ``selinuxuser_execmod`` / ``selinuxuser_execstack``
booleans decide whether a process may make memory writable+executable, relocate text
(``TEXTREL``: glibc then fails with "cannot restore segment prot after reloc: Permission denied")
or run with an executable stack. AppArmor (``Documentation/admin-guide/LSM/apparmor.rst``): the
confining profile of a process is in ``/proc/<pid>/attr/apparmor/current`` (Linux 5.8+) or
``/proc/<pid>/attr/current``, e.g. ``docker-default (enforce)`` or ``unconfined``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

SELINUX_FS = "/sys/fs/selinux"
BOOLEANS = ("deny_execmem", "selinuxuser_execmod", "selinuxuser_execstack", "selinuxuser_execheap",
            "domain_can_mmap_files")


def _first_line(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(4096).split("\n", 1)[0].strip("\0 \t")
    except OSError:
        return None


@dataclass
class LsmState:
    selinux: str  # "enforcing", "permissive", "absent", or "unreadable"
    selinux_booleans: dict[str, bool] = field(default_factory=dict)
    selinux_context: str | None = None
    apparmor_profile: str | None = None

    @property
    def apparmor_enforcing(self) -> bool:
        return bool(self.apparmor_profile) and self.apparmor_profile.endswith("(enforce)")  # type: ignore[union-attr]

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, {})}


def read_lsm(pid: int | str = "self", selinux_fs: str = SELINUX_FS) -> LsmState:
    enforce = _first_line(os.path.join(selinux_fs, "enforce"))
    if enforce is None:
        selinux = "absent" if not os.path.isdir(selinux_fs) else "unreadable"
    else:
        selinux = "enforcing" if enforce == "1" else "permissive"
    state = LsmState(selinux)
    if selinux in ("enforcing", "permissive"):
        for name in BOOLEANS:
            value = _first_line(os.path.join(selinux_fs, "booleans", name))
            if value:
                state.selinux_booleans[name] = value.split()[0] == "1"
    apparmor = _first_line(f"/proc/{pid}/attr/apparmor/current")
    current = _first_line(f"/proc/{pid}/attr/current")
    if apparmor:
        state.apparmor_profile = apparmor
    elif current and selinux == "absent":
        state.apparmor_profile = current  # older kernels: the one LSM's label
    if selinux in ("enforcing", "permissive") and current:
        state.selinux_context = current
    return state
