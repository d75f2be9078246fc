"""The one reader of ``HOST:PORT`` values (agent.jar ``-tunnel``, ``-direct``), as remoting reads them.

Source: jenkinsci/remoting ``src/main/java/org/jenkinsci/remoting/engine/HostPort.java`` (commit
fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a): ``HOST:PORT``, ``HOST:`` and ``:PORT`` (the missing
part comes from the Jenkins URL or the listener), ``[v6addr]:PORT``; the port is read with
``Integer.parseInt`` and must be in 1-65535.
"""

from __future__ import annotations

from jnlpdiag.javaint import parse_int


def split_host_port(value: str) -> tuple[str | None, int | None]:
    """remoting ``HostPort``: ``HOST:PORT``, ``HOST:``, ``:PORT``, ``[v6addr]:PORT``."""
    value = value.strip()
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or value[end + 1 : end + 2] != ":":
            raise ValueError(f"Invalid HOST:PORT value: {value}")
        host, port_s = value[1:end], value[end + 2 :]
    else:
        if ":" not in value:
            raise ValueError(f"Invalid HOST:PORT value: {value}")
        host, _, port_s = value.rpartition(":")
    port = None
    if port_s:
        # remoting's HostPort: Integer.parseInt, then the range check (its message, verbatim).
        java_port = parse_int(port_s)
        if java_port is None:
            raise ValueError(f'For input string: "{port_s}"')
        if not 0 < java_port < 65536:
            raise ValueError(f"Port {port_s} out of valid range [0, 65535)")
        port = java_port
    return host or None, port
