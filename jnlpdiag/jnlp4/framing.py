"""The length-prefixed UTF-8 frames every JNLP4 handshake layer sends.

remoting ``org/jenkinsci/remoting/util/ByteBufferUtils.java`` (commit
fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a), ``wrapUTF8``: an unsigned big-endian 16-bit byte
length, then the UTF-8 bytes, at most 65535 of them. For ASCII text this equals Java's
``DataOutputStream.writeUTF``, which is how the controller reads the preamble.
"""

from __future__ import annotations

MAX_FRAME = 65535


class FrameError(ValueError):
    """A frame that cannot be built or decoded."""


def wrap_utf8(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > MAX_FRAME:
        raise FrameError("UTF-8 encoded string must be less than 65536 bytes")
    return len(data).to_bytes(2, "big") + data


def unwrap_utf8(buffer: bytes) -> tuple[str, bytes] | None:
    """(text, rest) when ``buffer`` starts with a whole frame; None when more bytes are needed.

    Like ``ByteBufferUtils.unwrapUTF8`` it either consumes a whole frame or nothing.
    """
    if len(buffer) < 2:
        return None
    length = int.from_bytes(buffer[:2], "big")
    if len(buffer) < 2 + length:
        return None
    try:
        text = buffer[2 : 2 + length].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError(f"frame is not UTF-8: {exc}") from None
    return text, buffer[2 + length :]
