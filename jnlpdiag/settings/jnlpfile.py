"""Read a ``jenkins-agent.jnlp`` file: the ``<argument>`` texts, in document order.

Format: core ``hudson/slaves/SlaveComputer/jenkins-agent.jnlp.jelly`` (remoting reads every
``<argument>`` and re-parses them as options; the first two are ``<secret> <name>``, see
remoting ``Launcher.parseJnlpArguments``). The file comes from a server or a stranger, so it is
parsed with defusedxml (no entities, no DTDs, no external references) and with a size cap.
"""

from __future__ import annotations

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from jnlpdiag.localfile import LocalFileError, check_regular, read_regular

MAX_JNLP_BYTES = 1024 * 1024  # a real .jnlp is well under 2 KB


class JnlpFileError(ValueError):
    """The file cannot be used; the message says why in one line."""


def parse_jnlp_bytes(data: bytes) -> list[str]:
    if len(data) > MAX_JNLP_BYTES:
        raise JnlpFileError(f"refused: {len(data)} bytes is far larger than a .jnlp file can be")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise JnlpFileError(f"refused hostile XML ({type(exc).__name__}: DTDs/entities are not allowed)") from None
    except SafeET.ParseError as exc:
        raise JnlpFileError(f"not well-formed XML: {exc}") from None
    if root.tag != "jnlp":
        raise JnlpFileError(f"root element is <{root.tag[:40]}>, expected <jnlp>")
    args = [(el.text or "").strip() for el in root.iter("argument")]
    if not args:
        raise JnlpFileError("no <argument> elements: this is not a Jenkins agent .jnlp file")
    return args


def read_jnlp_file(path: str) -> list[str]:
    try:
        size = check_regular(path)  # a FIFO or device must not block or flood the read
        if size > MAX_JNLP_BYTES:
            raise JnlpFileError(f"refused: {size} bytes is far larger than a .jnlp file can be")
        data = read_regular(path, MAX_JNLP_BYTES)
    except LocalFileError as exc:
        raise JnlpFileError(str(exc)) from None
    except OSError as exc:
        raise JnlpFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_jnlp_bytes(data)
