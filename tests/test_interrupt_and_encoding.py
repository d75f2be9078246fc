"""Never a traceback, never a wrong exit code (issue 13 §5): Ctrl-C prints one line with what
finished and exits 130; a terminal that cannot encode the output gets look-alikes, and the exit code
is the verdict's, not 1 from a UnicodeEncodeError."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.peers.util import clean_env, run_cli


@pytest.fixture
def silent_listener() -> Iterator[tuple[int, threading.Event]]:
    """A real TCP server that accepts and never answers; the event is set on its first connection."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    accepted = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conns.append(conn)
            accepted.set()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield srv.getsockname()[1], accepted
    finally:
        srv.close()
        for c in conns:
            c.close()


@pytest.mark.parametrize("command", [["check"], ["check", "--json"], ["report", "--out", "{tmp}/bundle"]])
def test_ctrl_c_prints_one_line_and_exits_130(silent_listener, tmp_path, command):
    port, accepted = silent_listener
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    proc = subprocess.Popen(
        [sys.executable, "-m", "jnlpdiag", *args, "--url", f"http://127.0.0.1:{port}/", "--from-process", "none",
         "--timeout", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(TMPDIR=str(tmp_path)),
    )
    try:
        assert accepted.wait(30), "the run never reached the listener"
        time.sleep(0.5)  # let the host probes finish, so there is something to report
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, (proc.returncode, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("jnlpdiag: interrupted after ")
    assert "finished: " in lines[0] and "host.java pass" in lines[0]
    not_finished = lines[0].split("; not finished: ")[1].split(", ")
    assert "discovery" in not_finished  # the probe talking to the silent listener was cut
    assert "Traceback" not in err and "CancelledError" not in err


SIGNATURE_LINE = "Caused by: java.net.ConnectException: Connection refused\n"


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_logs_output_degrades_to_the_encoding(tmp_path, encoding):
    log = tmp_path / "agent.log"
    log.write_text("INFO: Agent discovery — started on hôst-ü ✓\n" + SIGNATURE_LINE, encoding="utf-8")
    r = run_cli("logs", str(log), env=clean_env(PYTHONIOENCODING=encoding))
    utf8 = run_cli("logs", str(log))
    assert r.code == utf8.code == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stderr == ""
    r.stdout.encode(encoding)  # everything printed is representable
    assert "- FAIL" in r.stdout  # the dash of the header degraded to an ASCII one
    assert "x FAIL" in r.stdout  # and the failure mark


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_check_output_degrades_to_the_encoding(tmp_path, encoding):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens: connection refused, a FAIL
    args = ("check", "--url", f"http://127.0.0.1:{port}/", "--from-process", "none", "--timeout", "3",
            "--probe", "discovery")
    r = run_cli(*args, env=clean_env(PYTHONIOENCODING=encoding, TMPDIR=str(tmp_path)))
    assert r.code == 2, r.stderr
    assert "Traceback" not in r.stderr
    r.stdout.encode(encoding)
    assert "x FAIL" in r.stdout
