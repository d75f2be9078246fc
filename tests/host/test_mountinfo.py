"""mountinfo parsing: the kernel's documented line, escapes, and real bind/overlay/stacked mounts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jnlpdiag.hostinfo import mountinfo
from tests.host.conftest import Mounts, mount, umount

# The example line of Documentation/filesystems/proc.rst §3.5 "/proc/<pid>/mountinfo".
PROC_RST_EXAMPLE = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"


def test_documented_example_line() -> None:
    m = mountinfo.parse_line(PROC_RST_EXAMPLE)
    assert (m.mount_id, m.parent_id, m.major, m.minor) == (36, 35, 98, 0)
    assert m.root == "/mnt1" and m.bind_root == "/mnt1"
    assert m.mount_point == "/mnt2"
    assert m.options == ("rw", "noatime") and m.optional == ("master:1",)
    assert (m.fstype, m.source) == ("ext3", "/dev/root")
    assert m.super_options == ("rw", "errors=continue")
    assert not m.noexec and not m.read_only


def test_octal_escapes_and_no_optional_fields() -> None:
    line = r"50 27 0:40 / /mnt/my\040dir\011tab\134back rw,nosuid,noexec - tmpfs none\040x ro,size=1k"
    m = mountinfo.parse_line(line)
    assert m.mount_point == "/mnt/my dir\ttab\\back"
    assert m.source == "none x"
    assert m.noexec and m.nosuid and m.read_only  # ro in the superblock options counts
    assert m.optional == ()


def test_malformed_lines_are_skipped() -> None:
    text = "\n".join(["garbage", "1 2 3", PROC_RST_EXAMPLE, "x y 0:1 / /a rw - tmpfs t rw", ""])
    assert [m.mount_point for m in mountinfo.parse(text)] == ["/mnt2"]
    with pytest.raises(mountinfo.MountinfoError):
        mountinfo.parse_line("1 2 0:1 / /a rw shared:1 tmpfs t rw")  # no " - " separator


def test_overlay_layers_from_super_options() -> None:
    line = ("60 27 0:50 / /merged rw,relatime - overlay overlay "
            r"rw,lowerdir=/l1:/l\,2,upperdir=/up,workdir=/wk")
    m = mountinfo.parse_line(line)
    assert m.overlay_layers() == {"lowerdir": "/l1:/l,2", "upperdir": "/up", "workdir": "/wk"}
    assert "lowerdir" not in str(m.to_dict()["super_options"])


def test_deepest_and_topmost_mount_wins() -> None:
    text = "\n".join([
        "1 0 8:1 / / rw - ext4 /dev/sda1 rw",
        "2 1 0:30 / /tmp rw - tmpfs tmpfs rw",
        "3 2 0:31 / /tmp rw,noexec - tmpfs second rw",  # stacked on /tmp: hides mount 2
        "4 1 0:32 / /tmpfoo rw - tmpfs other rw",  # a prefix of the name, not of the path
    ])
    mounts = mountinfo.parse(text)
    assert mountinfo.mount_for("/tmp/x/y", mounts).source == "second"  # type: ignore[union-attr]
    assert mountinfo.mount_for("/tmpfoo/a", mounts).source == "other"  # type: ignore[union-attr]
    assert mountinfo.mount_for("/tmpf", mounts).source == "/dev/sda1"  # type: ignore[union-attr]
    assert mountinfo.mount_for("relative", []) is None


@pytest.mark.privileged
def test_real_mounts(mounts: Mounts) -> None:
    table = mountinfo.read()
    noexec = mountinfo.mount_for(str(mounts.noexec / "sub"), table, os.stat(mounts.noexec).st_dev)
    assert noexec is not None and noexec.mount_point == str(mounts.noexec)
    assert noexec.noexec and noexec.nosuid and noexec.fstype == "tmpfs"
    ro = mountinfo.mount_for(str(mounts.ro), table)
    assert ro is not None and ro.read_only and not ro.noexec


@pytest.mark.privileged
def test_real_bind_mount_with_a_space(mounts: Mounts) -> None:
    inner = mounts.exec / "inner dir"
    inner.mkdir(exist_ok=True)
    target = mounts.base / "bind target"
    target.mkdir()
    try:
        err = mount("--bind", str(inner), str(target))
        if err:
            pytest.skip(f"bind mount refused: {err}")
        try:
            m = mountinfo.mount_for(str(target), mountinfo.read(), os.stat(target).st_dev)
            assert m is not None
            assert m.mount_point == str(target)  # "\040" decoded
            assert m.bind_root == "/inner dir"
        finally:
            umount(target)
    finally:
        target.rmdir()


@pytest.mark.privileged
def test_real_overlayfs(mounts: Mounts) -> None:
    layers = {n: mounts.exec / f"ovl-{n}" for n in ("lower", "upper", "work", "merged")}
    for p in layers.values():
        p.mkdir(exist_ok=True)
    err = mount("-t", "overlay", "overlay", "-o",
                f"lowerdir={layers['lower']},upperdir={layers['upper']},workdir={layers['work']}",
                str(layers["merged"]))
    if err:
        pytest.skip(f"overlayfs mount refused: {err}")
    try:
        m = mountinfo.mount_for(str(layers["merged"]), mountinfo.read())
        assert m is not None and m.fstype == "overlay"
        got = m.overlay_layers()
        assert got["lowerdir"] == str(layers["lower"]) and got["upperdir"] == str(layers["upper"])
    finally:
        umount(layers["merged"])


@pytest.mark.privileged
def test_statvfs_agrees_with_mountinfo(mounts: Mounts) -> None:
    for path in (mounts.noexec, mounts.exec, mounts.ro, Path("/")):
        m = mountinfo.mount_for(str(path), mountinfo.read(), os.stat(path).st_dev)
        assert m is not None
        assert bool(os.statvfs(path).f_flag & os.ST_NOEXEC) == m.noexec
        assert bool(os.statvfs(path).f_flag & os.ST_RDONLY) == m.read_only
