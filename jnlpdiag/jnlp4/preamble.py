"""The protocol preamble, and the plain-text answers of a listener that refuses it.

Client side: remoting ``org/jenkinsci/remoting/protocol/impl/AgentProtocolClientFilterLayer.java``
sends ``wrapUTF8("Protocol:" + name)`` before anything else. Server side: core
``hudson/TcpSlaveAgentListener.java`` (jenkinsci/jenkins ff9430ee1dc6e319349a488650d914444fe141f3),
``ConnectionHandler.run`` reads 10 bytes, then ``readUTF``; an unknown name gets
``"Unknown protocol:" + lineSeparator`` and a string without ``Protocol:`` gets
``"Unrecognized protocol: <s>"``. Jenkins before 2.483 also answered ``Disabled protocol:<s>``.
"""

from __future__ import annotations

from jnlpdiag.jnlp4.framing import wrap_utf8

JNLP4 = "JNLP4-connect"
PING = "Ping"
# PingAgentProtocol.handle writes exactly these bytes and closes (TcpSlaveAgentListener.java).
PING_ANSWER = b"Ping\n"

# What the listener writes before closing, when it will not dispatch the preamble.
_REFUSALS = ("Unknown protocol:", "Unrecognized protocol:", "Disabled protocol:")


def preamble(protocol: str) -> bytes:
    return wrap_utf8("Protocol:" + protocol)


def listener_refusal(data: bytes) -> str | None:
    """The listener's refusal line when ``data`` (its first bytes) is one, else None."""
    text = data.decode("utf-8", "replace")
    for prefix in _REFUSALS:
        head = text[: len(prefix)]
        if len(head) >= 5 and prefix.startswith(head):
            return (text.splitlines() or [""])[0].strip()
    return None
