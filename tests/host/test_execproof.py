"""The exec proof: the shared object built from bytes is valid, loads, runs, and is always removed."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from jnlpdiag.hostinfo import elf, execproof
from tests.host.conftest import Mounts, listing


@pytest.mark.parametrize("machine", [62, 183])
def test_built_object_is_a_well_formed_shared_object(machine: int) -> None:
    data = execproof.build_shared_object(machine)
    info = elf.analyze(data)
    assert info.ident.bits == 64 and info.ident.machine == machine and info.ident.type_name == "shared object"
    assert info.gnu_stack_flags == 6 and not info.needs_exec_stack  # RW stack: glibc 2.41+ loads it
    assert info.needed == [] and info.interpreter is None
    segs = [(s["p_type"], s["p_flags"]) for s in ELFFile(io.BytesIO(data)).iter_segments()]
    assert ("PT_LOAD", 5) in segs and ("PT_LOAD", 6) in segs and ("PT_DYNAMIC", 6) in segs


def test_readelf_sees_the_dynamic_table(tmp_path: Path) -> None:
    so = tmp_path / "probe.so"
    so.write_bytes(execproof.build_shared_object(62))
    out = subprocess.run(["readelf", "-hld", str(so)], capture_output=True, text=True, check=True).stdout
    assert "DYN (Shared object file)" in out and "X86-64" in out
    for tag in ("(HASH)", "(STRTAB)", "(SYMTAB)", "(STRSZ)", "(SYMENT)"):
        assert tag in out
    assert "GNU_STACK" in out


def test_proof_on_an_exec_capable_directory_runs_code(tmp_path: Path) -> None:
    if execproof.host_machine() is None:
        pytest.skip("no byte template for this machine")
    before = listing(tmp_path)
    proof = asyncio.run(execproof.prove_exec(str(tmp_path), 10))
    assert proof.method == "elf-bytes"
    assert proof.result.mmap_exec == "ok" and proof.result.dlopen == "ok"
    assert proof.result.call == execproof.EXPECTED
    assert proof.verdict == "exec"
    assert listing(tmp_path) == before and proof.removed


@pytest.mark.privileged
def test_proof_on_noexec_tmpfs(mounts: Mounts) -> None:
    before = listing(mounts.noexec)
    proof = asyncio.run(execproof.prove_exec(str(mounts.noexec), 10))
    assert proof.written
    assert "errno 1" in (proof.result.mmap_exec or "")  # EPERM from mmap(PROT_EXEC)
    assert "failed to map segment from shared object" in (proof.result.dlopen or "")
    assert proof.verdict == "noexec"
    assert listing(mounts.noexec) == before


@pytest.mark.privileged
def test_proof_where_nothing_can_be_written(mounts: Mounts) -> None:
    proof = asyncio.run(execproof.prove_exec(str(mounts.ro), 10))
    assert not proof.written and "Read-only file system" in (proof.write_error or "")
    assert proof.verdict == "unknown"


def test_load_child_reports_loader_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.so"
    bad.write_bytes(b"\x7fELF" + bytes(100))
    result = asyncio.run(execproof.run_child("load", str(bad), 10))
    assert result.dlopen and not result.loaded and "bad.so" in result.dlopen


def test_load_child_timeout_is_reported_not_raised(tmp_path: Path) -> None:
    fifo = tmp_path / "blocks.so"
    os.mkfifo(fifo)  # opening a FIFO for reading blocks: the child hangs inside dlopen
    result = asyncio.run(execproof.run_child("load", str(fifo), 0.5))
    assert result.error and "did not finish" in result.error


@pytest.mark.privileged
@pytest.mark.parametrize("where", ["exec", "noexec"])
def test_fallbacks_for_machines_without_a_byte_template(where: str, mounts: Mounts,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Other machines: compile with the host's cc; without cc, the mmap(PROT_EXEC) test alone."""
    directory = mounts.exec if where == "exec" else mounts.noexec
    monkeypatch.setattr(execproof, "host_machine", lambda: None)
    before = listing(directory)
    compiled = asyncio.run(execproof.prove_exec(str(directory), 30))
    assert compiled.method == "cc", compiled.write_error
    assert compiled.verdict == where
    if where == "exec":
        assert compiled.result.call == execproof.EXPECTED
    monkeypatch.setenv("PATH", "/nonexistent")
    bare = asyncio.run(execproof.prove_exec(str(directory), 30))
    assert bare.method == "mmap-only" and bare.verdict == where
    assert bare.result.dlopen is None  # nothing loadable was written, so nothing was loaded
    assert listing(directory) == before
