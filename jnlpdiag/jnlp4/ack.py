"""The plaintext acknowledgement both sides exchange before TLS.

remoting ``org/jenkinsci/remoting/protocol/impl/AckFilterLayer.java`` (commit
fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a): each side sends ``wrapUTF8("ACK")`` at once and holds
everything else (the ClientHello too) until the peer's five bytes have arrived. Every received
byte is compared as it comes; the first wrong byte aborts with ``Incorrect acknowledgement
received, expected 0x000341434b got 0x<bytes so far>``. No ACK within the handshaking timeout
(``ProtocolStack.handshakingTimeout`` = 10 s) gives ``Timeout waiting for ACK``; a peer that closes
first gives ``Connection closed before acknowledgement sent``.
"""

from __future__ import annotations

from jnlpdiag.jnlp4.framing import wrap_utf8
from jnlpdiag.jnlp4.preamble import listener_refusal
from jnlpdiag.pycompat import StrEnum

ACK = wrap_utf8("ACK")  # 00 03 41 43 4b
HANDSHAKE_TIMEOUT = 10.0


class AckState(StrEnum):
    OK = "ok"
    INCOMPLETE = "incomplete"  # a correct prefix; more bytes needed
    INCORRECT = "incorrect"


def check(received: bytes) -> AckState:
    """Compare the bytes received so far with the ACK, as ``receivedPartialAck`` does."""
    head = received[: len(ACK)]
    if not ACK.startswith(head):
        return AckState.INCORRECT
    return AckState.OK if len(head) == len(ACK) else AckState.INCOMPLETE


def incorrect_message(received: bytes) -> str:
    """remoting's own words for a wrong ACK, so the finding matches the agent log."""
    return f"Incorrect acknowledgement received, expected 0x{ACK.hex()} got 0x{received[: len(ACK)].hex()}"


def describe_peer(data: bytes) -> tuple[str, str]:
    """(kind, description) of a peer from the bytes it sent instead of the ACK."""
    refusal = listener_refusal(data)
    if refusal:
        return "listener_refusal", f"the Jenkins agent listener refused the protocol: {refusal!r}"
    if not data:
        return "closed", "it closed the connection without a word"
    first_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    if data.startswith(b"HTTP/"):
        return "http", f"an HTTP server answers ({first_line[:60]}): a web server, ingress or service-mesh proxy"
    if data[:2] == b"\x15\x03":
        return "tls", "a TLS server answers (it sent a TLS alert): a TLS port or a TLS-terminating proxy"
    if data[:2] == b"\x16\x03":
        return "tls", "a TLS server answers: a TLS port or a TLS-terminating proxy"
    if data.startswith(b"SSH-"):
        return "ssh", f"an SSH server answers ({first_line[:40]})"
    return "unknown", f"an unknown service answers (first bytes 0x{data[:8].hex()})"
