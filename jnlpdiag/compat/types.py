"""Fact types of the compatibility data: how a value is parsed, compared and shown.

Every fact in ``compat-matrix.json`` names one of these types. Comparisons happen on a *key*: a
:class:`~jnlpdiag.versions.VersionNumber` for the version types (so ``3107.v665000b_51092 > 4.13``
exactly as Jenkins decides), an ``int`` for Java releases, plain values otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jnlpdiag.versions import (
    VersionError,
    VersionNumber,
    parse_image,
    parse_java_version,
    parse_jenkins,
    parse_kubernetes_plugin,
    parse_remoting,
)

VERSION, NUMBER, BOOL, STRING = "version", "number", "bool", "string"


def _java(raw: Any) -> int:
    if isinstance(raw, bool):
        raise VersionError("Java version: expected a number or a version string, not a boolean")
    if isinstance(raw, int):
        if not 1 <= raw <= 99:
            raise VersionError(f"Java {raw} does not exist")
        return raw
    return parse_java_version(str(raw)).feature


def _int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("expected a whole number, not a boolean")
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    if not text.lstrip("-").isdigit():
        raise ValueError(f"{text[:40]!r} is not a whole number")
    return int(text)


_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{str(raw)[:40]!r} is not true or false")


def _str(raw: Any) -> str:
    if raw is None or isinstance(raw, (dict, list)):
        raise ValueError("expected text")
    text = str(raw)
    if len(text) > 500:
        raise ValueError("expected at most 500 characters of text")
    return text


def _list(element: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    def parse(raw: Any) -> list[Any]:
        items = raw if isinstance(raw, list) else [p for p in str(raw).replace(" ", ",").split(",") if p]
        return [element(i) for i in items]
    return parse


@dataclass(frozen=True)
class FactType:
    name: str
    domain: str
    parse: Callable[[Any], Any]  # input value -> typed value (raises ValueError / VersionError)
    key: Callable[[Any], Any]  # typed value -> comparable key
    literal: Callable[[str], Any]  # literal in a condition -> comparable key
    display: Callable[[Any], str]
    element: FactType | None = None  # for list types

    @property
    def is_list(self) -> bool:
        return self.element is not None

    @property
    def ordered(self) -> bool:
        return self.domain in (VERSION, NUMBER) and not self.is_list


def _version_literal(text: str) -> VersionNumber:
    text = text.strip()
    if not text or not text[0].isdigit():
        raise VersionError(f"{text!r} is not a version")
    return VersionNumber(text)


def _version_type(name: str, parse: Callable[[str], Any]) -> FactType:
    def parse_any(raw: Any) -> Any:
        if hasattr(raw, "number") and hasattr(raw, "raw"):
            return raw
        return parse(str(raw))
    return FactType(name, VERSION, parse_any, lambda v: v.number, _version_literal, lambda v: v.raw)


_JAVA = FactType("java", NUMBER, _java, lambda v: v, lambda t: _java(int(t) if t.strip().isdigit() else t), str)
_INT = FactType("int", NUMBER, _int, lambda v: v, _int, str)
_STRING = FactType("string", STRING, _str, lambda v: v, lambda t: t, lambda v: v)

TYPES: dict[str, FactType] = {
    "jenkins": _version_type("jenkins", parse_jenkins),
    "remoting": _version_type("remoting", parse_remoting),
    "kubernetes_plugin": _version_type("kubernetes_plugin", parse_kubernetes_plugin),
    "java": _JAVA,
    "int": _INT,
    "bool": FactType("bool", BOOL, _bool, lambda v: v, _bool, lambda v: "true" if v else "false"),
    "string": _STRING,
    "image": FactType("image", STRING, lambda raw: parse_image(_str(raw)).raw, lambda v: v, lambda t: t, lambda v: v),
    "int_list": FactType("int_list", NUMBER, _list(_int), lambda v: list(v), _list(_int),
                         lambda v: ", ".join(str(i) for i in v) or "(none)", element=_INT),
    "string_list": FactType("string_list", STRING, _list(_str), lambda v: list(v), _list(_str),
                            lambda v: ", ".join(v) or "(none)", element=_STRING),
}


def compare(domain: str, a: Any, b: Any) -> int:
    if domain == VERSION:
        result: int = a.compare(b)
        return result
    return (a > b) - (a < b)
