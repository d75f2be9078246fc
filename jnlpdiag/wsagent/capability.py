"""The ``X-Remoting-Capability`` header agent.jar sends on ``/wsagents/``.

remoting ``hudson/remoting/Capability.java`` (commit fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a):
``toASCII()`` = Java serialization of ``new Capability()`` written through
``Channel.Mode.TEXT.wrap`` (``BinarySafeStream``, standard base64 alphabet with ``=`` padding,
flushed once at the end). The object has one field, ``long mask``, ``serialVersionUID = 1L``;
the default mask sets bits 1-8 (multi-classloader RPC ... proxy exception fallback).

The stream below follows the Java Object Serialization Specification, chapter 6 (grammar):
magic, version, TC_OBJECT, TC_CLASSDESC, class name, SUID, flags, fields, TC_ENDBLOCKDATA,
TC_NULL (no superclass), then the field values. The controller only accepts this class
(``Capability.read`` rejects any other), so a faithful encoding matters.
"""

from __future__ import annotations

import base64
import struct

KEY = "X-Remoting-Capability"
CLASS_NAME = "hudson.remoting.Capability"
# MASK_MULTI_CLASSLOADER | MASK_PIPE_THROTTLING | MASK_MIMIC_EXCEPTION | MASK_PREFETCH |
# GREEDY_REMOTE_INPUTSTREAM | MASK_PROXY_WRITER_2_35 | MASK_CHUNKED_ENCODING | PROXY_EXCEPTION_FALLBACK
DEFAULT_MASK = sum(1 << bit for bit in range(1, 9))

_STREAM_MAGIC = b"\xac\xed"
_STREAM_VERSION = b"\x00\x05"
_TC_OBJECT, _TC_CLASSDESC, _TC_ENDBLOCKDATA, _TC_NULL = b"\x73", b"\x72", b"\x78", b"\x70"
_SC_SERIALIZABLE = b"\x02"


def _utf(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">H", len(data)) + data


def serialized(mask: int = DEFAULT_MASK) -> bytes:
    return b"".join((
        _STREAM_MAGIC, _STREAM_VERSION,
        _TC_OBJECT, _TC_CLASSDESC, _utf(CLASS_NAME), struct.pack(">q", 1), _SC_SERIALIZABLE,
        struct.pack(">H", 1), b"J", _utf("mask"),
        _TC_ENDBLOCKDATA, _TC_NULL,
        struct.pack(">q", mask),
    ))


def to_ascii(mask: int = DEFAULT_MASK) -> str:
    return base64.b64encode(serialized(mask)).decode("ascii")
