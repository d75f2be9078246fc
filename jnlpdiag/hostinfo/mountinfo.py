"""``/proc/<pid>/mountinfo``: which mount a path lives on, and with which options.

Format (kernel ``Documentation/filesystems/proc.rst`` §3.5, "/proc/<pid>/mountinfo"):

    36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)

(4) is the root of the mount inside its filesystem (not ``/`` for a bind mount of a subdirectory),
(6) the per-mount options (``noexec``, ``nosuid``, ``ro`` live here), (7) zero or more optional
fields ended by ``-``, (11) the superblock options (overlayfs lists ``lowerdir=``/``upperdir=``
here). Paths escape space, tab, newline and backslash as ``\\ooo`` octal (fs/proc_namespace.c,
``mangle``/``seq_escape``), e.g. ``/mnt/my\\040dir``.

The kernel's own verdict for one path is ``statvfs(2)``'s ``f_flag`` (``ST_NOEXEC``...), which the
callers read too; this module adds which mount that is, its source and type.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

_OCTAL = re.compile(r"\\([0-7]{3})")
_MAX_BYTES = 4 * 1024 * 1024  # a host with tens of thousands of mounts still fits


def unescape(value: str) -> str:
    """Undo the kernel's ``\\ooo`` escapes (space, tab, newline, backslash)."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), value)


def _split_options(value: str) -> tuple[str, ...]:
    # overlayfs escapes commas inside its paths as "\,"; split on the unescaped ones only.
    return tuple(unescape(p.replace("\\,", ",")) for p in re.split(r"(?<!\\),", value) if p)


@dataclass(frozen=True)
class Mount:
    mount_id: int
    parent_id: int
    major: int
    minor: int
    root: str
    mount_point: str
    options: tuple[str, ...]
    optional: tuple[str, ...]
    fstype: str
    source: str
    super_options: tuple[str, ...] = field(default=())

    @property
    def noexec(self) -> bool:
        return "noexec" in self.options

    @property
    def nosuid(self) -> bool:
        return "nosuid" in self.options

    @property
    def read_only(self) -> bool:
        return "ro" in self.options or "ro" in self.super_options

    @property
    def bind_root(self) -> str | None:
        """The subdirectory of the filesystem this mount shows (a bind mount), or None for ``/``."""
        return None if self.root == "/" else self.root

    def overlay_layers(self) -> dict[str, str]:
        """``lowerdir``/``upperdir``/``workdir`` of an overlayfs mount (empty for other types)."""
        if self.fstype != "overlay":
            return {}
        out = {}
        for opt in self.super_options:
            key, sep, value = opt.partition("=")
            if sep and key in ("lowerdir", "upperdir", "workdir"):
                out[key] = value
        return out

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "mount_point": self.mount_point,
            "source": self.source,
            "fstype": self.fstype,
            "options": ",".join(self.options),
            "super_options": ",".join(o for o in self.super_options
                                      if not o.startswith(("lowerdir=", "upperdir=", "workdir="))),
        }
        if self.bind_root:
            data["bind_root"] = self.bind_root
        layers = self.overlay_layers()
        if layers:
            data["overlay"] = layers
        return data


class MountinfoError(ValueError):
    pass


def parse_line(line: str) -> Mount:
    parts = line.split(" ")
    try:
        sep = parts.index("-", 6)
    except ValueError:
        raise MountinfoError(f"no ' - ' separator in mountinfo line: {line[:120]!r}") from None
    if len(parts) < sep + 3:
        raise MountinfoError(f"truncated mountinfo line: {line[:120]!r}")
    try:
        major_s, _, minor_s = parts[2].partition(":")
        return Mount(
            mount_id=int(parts[0]),
            parent_id=int(parts[1]),
            major=int(major_s),
            minor=int(minor_s),
            root=unescape(parts[3]),
            mount_point=unescape(parts[4]),
            options=_split_options(parts[5]),
            optional=tuple(parts[6:sep]),
            fstype=unescape(parts[sep + 1]),
            source=unescape(parts[sep + 2]),
            super_options=_split_options(parts[sep + 3]) if len(parts) > sep + 3 else (),
        )
    except ValueError as exc:
        raise MountinfoError(f"bad mountinfo line ({exc}): {line[:120]!r}") from None


def parse(text: str) -> list[Mount]:
    """Every well-formed line; malformed lines are skipped (a partial table beats none)."""
    mounts = []
    for line in text.splitlines():
        if line.strip():
            try:
                mounts.append(parse_line(line))
            except MountinfoError:
                continue
    return mounts


def read(pid: int | str = "self") -> list[Mount]:
    """Mounts as seen by ``pid`` (raises OSError when not readable)."""
    with open(f"/proc/{pid}/mountinfo", "rb") as fh:
        raw = fh.read(_MAX_BYTES)
    return parse(raw.decode("utf-8", "surrogateescape"))


def _under(path: str, mount_point: str) -> bool:
    return mount_point == "/" or path == mount_point or path.startswith(mount_point.rstrip("/") + "/")


def mount_for(path: str, mounts: list[Mount], st_dev: int | None = None) -> Mount | None:
    """The mount that ``path`` (an absolute, symlink-free path) is on.

    The deepest mount point containing ``path`` wins; of several mounts stacked on the same
    point, the one on top (no other mount there names it as parent) is the visible one. When
    ``st_dev`` is given and some candidate's device matches it, those candidates are preferred
    (the device number is authoritative for most filesystems; btrfs subvolumes are the exception,
    hence only a preference).
    """
    candidates = [m for m in mounts if _under(path, m.mount_point)]
    if not candidates:
        return None
    if st_dev is not None:
        same_dev = [m for m in candidates if os.makedev(m.major, m.minor) == st_dev]
        deepest_any = max(len(m.mount_point) for m in candidates)
        if same_dev and max(len(m.mount_point) for m in same_dev) == deepest_any:
            candidates = same_dev
    deepest = max(len(m.mount_point) for m in candidates)
    stack = [m for m in candidates if len(m.mount_point) == deepest]
    parents = {m.parent_id for m in stack}
    top = [m for m in stack if m.mount_id not in parents]
    return (top or stack)[-1]
