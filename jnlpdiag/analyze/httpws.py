"""Read HTTP/1.x exchanges and WebSocket frames from reassembled TCP byte streams.

HTTP/1.1 message framing per RFC 9112 (Content-Length, chunked transfer coding); the WebSocket
upgrade handshake and frame format per RFC 6455 §4 and §5.2 (client frames are masked; a close
frame's payload starts with a 2-byte status code, §5.5.1). Only what a diagnosis needs is kept:
request lines, the upgrade-related headers and statuses, and close frames. Header values that carry
credentials are never stored.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"CONNECT ", b"PATCH ")
_KEEP_HEADERS = {"host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
                 "sec-websocket-accept", "node-name", "x-remoting-minimum-version", "x-jenkins", "server",
                 "location", "content-type", "x-jenkins-jnlp-port", "x-jenkins-agent-protocols", "via"}
_MAX_HEAD = 64 * 1024


def looks_like_http_request(data: bytes) -> bool:
    return data.startswith(_METHODS)


@dataclass
class HttpMessage:
    start_line: str
    headers: dict[str, str]  # lower-case names, only the kept ones
    header_names: list[str]  # every header name, for "which headers were sent"
    body_preview: str = ""


@dataclass
class CloseFrame:
    code: int | None
    reason: str


@dataclass
class WsFrames:
    frames: int = 0
    close: CloseFrame | None = None
    error: str | None = None


def _head(data: bytes, pos: int) -> tuple[HttpMessage, int] | None:
    end = data.find(b"\r\n\r\n", pos, pos + _MAX_HEAD)
    if end < 0:
        return None
    lines = data[pos:end].decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    names: list[str] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        names.append(name.strip())
        if name.strip().lower() in _KEEP_HEADERS:
            headers[name.strip().lower()] = value.strip()[:300]
    return HttpMessage(lines[0][:300], headers, names), end + 4


def _body_end(data: bytes, pos: int, msg: HttpMessage, raw_headers: bytes) -> int | None:
    """Where the body that starts at ``pos`` ends, or None when unknown (read to close)."""
    text = raw_headers.decode("latin-1").lower()
    if re.search(r"\r\ntransfer-encoding:[^\r\n]*chunked", text):
        while True:
            eol = data.find(b"\r\n", pos)
            if eol < 0:
                return None
            try:
                size = int(data[pos:eol].split(b";")[0], 16)
            except ValueError:
                return None
            pos = eol + 2 + size + 2
            if size == 0:
                return pos
            if pos > len(data):
                return None
    m = re.search(r"\r\ncontent-length:\s*(\d+)", text)
    if m:
        return pos + int(m.group(1))
    return None


def messages(data: bytes, requests: bool) -> list[HttpMessage]:
    """The HTTP messages at the start of a direction's stream (requests or responses)."""
    out: list[HttpMessage] = []
    pos = 0
    while pos < len(data) and len(out) < 100:
        parsed = _head(data, pos)
        if parsed is None:
            break
        msg, body_start = parsed
        ok = looks_like_http_request(data[pos:pos + 8]) if requests else data[pos:pos + 5] == b"HTTP/"
        if not ok:
            break
        out.append(msg)
        status = msg.start_line.split(" ")[1] if not requests and " " in msg.start_line else ""
        if status == "101":
            break  # the rest is the upgraded protocol
        end = _body_end(data, body_start, msg, data[pos:body_start])
        if end is None:
            msg.body_preview = data[body_start:body_start + 200].decode("utf-8", "replace")
            if requests or not status.startswith(("1", "204", "304")):
                break
            end = body_start
        msg.body_preview = data[body_start:min(end, body_start + 200)].decode("utf-8", "replace")
        pos = end
    return out


def upgrade_offset(data: bytes) -> int | None:
    """Byte offset right after a ``101`` response head (responses) or an upgrade request head."""
    pos = 0
    while pos < len(data):
        parsed = _head(data, pos)
        if parsed is None:
            return None
        msg, body_start = parsed
        if msg.start_line.startswith("HTTP/") and msg.start_line.split(" ")[1:2] == ["101"]:
            return body_start
        if msg.headers.get("upgrade", "").lower() == "websocket" and not msg.start_line.startswith("HTTP/"):
            return body_start
        end = _body_end(data, body_start, msg, data[pos:body_start])
        if end is None or end <= pos:
            return None
        pos = end
    return None


def ws_frames(data: bytes) -> WsFrames:
    """Walk WebSocket frames (RFC 6455 §5.2); stop at the first close frame."""
    out = WsFrames()
    pos = 0
    while pos + 2 <= len(data):
        b0, b1 = data[pos], data[pos + 1]
        opcode, masked, length = b0 & 0x0F, b1 & 0x80, b1 & 0x7F
        pos += 2
        if length == 126:
            if pos + 2 > len(data):
                break
            (length,) = struct.unpack(">H", data[pos:pos + 2])
            pos += 2
        elif length == 127:
            if pos + 8 > len(data):
                break
            (length,) = struct.unpack(">Q", data[pos:pos + 8])
            pos += 8
        key = data[pos:pos + 4] if masked else b""
        pos += 4 if masked else 0
        if opcode not in (0, 1, 2, 8, 9, 10):
            out.error = f"byte {pos}: opcode {opcode} is not a WebSocket opcode"
            break
        payload = data[pos:pos + length]
        pos += length
        out.frames += 1
        if opcode == 8:
            if key:
                payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
            out.close = CloseFrame(code, payload[2:125].decode("utf-8", "replace"))
            break
    return out


@dataclass
class Exchange:
    request: HttpMessage
    response: HttpMessage | None = None
    extra: dict[str, str] = field(default_factory=dict)
