"""Settings the user may edit in the TUI form, their validation, and applying them to a run.

Validation follows what agent.jar accepts: ``-url`` must be http(s); ``-tunnel`` is ``HOST:PORT``,
``HOST:`` or ``:PORT`` (remoting ``org/jenkinsci/remoting/engine/HostPort.java``,
jenkinsci/remoting fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any
from urllib.parse import urlsplit

from jnlpdiag.hostport import split_host_port
from jnlpdiag.settings import Settings

EDITABLE = ("url", "name", "tunnel", "websocket", "ca_file", "java")
ORIGIN = "edited in the TUI"


class EditError(ValueError):
    pass


def current_values(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in EDITABLE}


def _tunnel(value: str) -> str:
    if ":" not in value:
        raise EditError(f"Tunnel {value!r}: expected HOST:PORT, HOST: or :PORT")
    try:
        host, port = split_host_port(value)  # as agent.jar reads it
    except ValueError as exc:
        why = "port must be 1-65535" if "range" in str(exc) or "input string" in str(exc) else str(exc)
        raise EditError(f"Tunnel {value!r}: {why}") from None
    if host is None and port is None:
        raise EditError("Tunnel ':' names neither a host nor a port")
    return value


def validate(values: dict[str, Any]) -> dict[str, Any]:
    """Normalised edits (empty text = unset); raises :class:`EditError` with a sentence to show."""
    out: dict[str, Any] = {}
    for name in EDITABLE:
        value = values.get(name)
        if name == "websocket":
            out[name] = bool(value)
            continue
        text = str(value or "").strip()
        if any(ord(c) < 32 for c in text):
            raise EditError(f"{name}: control characters are not allowed")
        out[name] = text or None
    url = out["url"]
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EditError(f"URL {url!r}: expected http(s)://host[:port]/path/")
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise EditError(f"URL {url!r}: the port is not a number in 1-65535") from None
        if not url.endswith("/"):
            out["url"] = url + "/"  # as remoting's Engine.ensureTrailingSlash does
    if out["tunnel"]:
        _tunnel(out["tunnel"])
    if out["ca_file"] and not os.path.isfile(out["ca_file"]):
        raise EditError(f"CA file {out['ca_file']}: no such file")
    java = out["java"]
    if java and not (os.path.isfile(java) and os.access(java, os.X_OK)):
        raise EditError(f"Java {java}: not an executable file")
    return out


def apply(settings: Settings, edits: dict[str, Any]) -> Settings:
    """A copy of ``settings`` with ``edits``; each changed value's origin says it was edited here."""
    new = dataclasses.replace(settings, origins=dict(settings.origins))
    for name, value in edits.items():
        if getattr(settings, name) != value:
            setattr(new, name, value if value is not None else (False if name == "websocket" else None))
            new.origins[name] = ORIGIN
    return new
