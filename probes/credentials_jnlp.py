"""credentials.jnlp: prove the secret right or wrong without touching the agent port.

``GET <url>computer/<name>/jenkins-agent.jnlp?encrypt=true`` is served to anonymous users (core
``Jenkins.isSubjectToMandatoryReadPermissionCheck``) as ``IV (16 bytes) + AES/CFB8/NoPadding(the
.jnlp file)`` under the first 16 bytes of the node's MAC, which is the agent secret in hex (core
``jenkins/slaves/EncryptedSlaveAgentJnlpFile.java``, jenkinsci/jenkins
ff9430ee1dc6e319349a488650d914444fe141f3). agent.jar decrypts it with ``fromHex(secret[0:32])``
(remoting ``hudson/remoting/Launcher.java`` ``parseJnlpArguments``, commit
fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a). Decrypting it here proves the secret without sending
it anywhere, and the file's arguments show how the controller expects this agent to connect.
The controller logs a deprecation warning for every request to this URL (since 2.437).
"""

from __future__ import annotations

import binascii
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

try:  # cryptography >= 47 keeps CFB8 among the "decrepit" modes
    from cryptography.hazmat.decrepit.ciphers.modes import CFB8
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB8  # type: ignore[assignment]
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.httpclient import HttpError, request
from jnlpdiag.jnlp4.catalog import fix
from jnlpdiag.probe_api import Context, Probe
from jnlpdiag.tls.agentssl import agent_ssl_context


def decrypt(payload: bytes, secret: str) -> bytes:
    """Launcher.parseJnlpArguments: key = fromHex(secret[0:32]), IV = the first 16 bytes."""
    key = binascii.unhexlify(secret[:32])
    cipher = Cipher(algorithms.AES(key), CFB8(payload[:16])).decryptor()
    return cipher.update(payload[16:]) + cipher.finalize()


class HostileXml(ValueError):
    """The decrypted file declares a DTD or entities: an entity bomb or an external entity."""


def jnlp_arguments(plain: bytes) -> list[str] | None:
    """The text of every <argument>, in order (Launcher reads them so), or None if not a .jnlp.

    Raises :class:`HostileXml` for a DTD or entity declaration: Jenkins' file has none, and a wrong
    key never decrypts to well-formed markup that far, so this is not a wrong secret.
    """
    try:
        root = ElementTree.fromstring(plain, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise HostileXml(type(exc).__name__) from None
    except (ElementTree.ParseError, ValueError):
        return None
    if root.tag != "jnlp":
        return None
    return [(el.text or "") for el in root.iter("argument")]


class CredentialsJnlpProbe(Probe):
    id = "credentials.jnlp"
    layer = Layer.PROTOCOL
    description = ("Check the agent secret by decrypting <url>computer/<name>/jenkins-agent.jnlp?encrypt=true "
                   "(the secret is never sent)")
    after = ("discovery",)
    rests_on = ("url-answers", "jenkins-at-url", "tls-session-acceptable")

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        s = ctx.settings
        url = ctx.jenkins_url()
        if not url or not s.name or not s.secret:
            missing = [n for n, v in (("URL", url), ("agent name", s.name), ("secret", s.secret)) if not v]
            yield ctx.finding(self.id, Status.SKIP, f"No {', '.join(missing)}: cannot check the secret",
                              caused_by=ctx.failure_of("discovery") if not url else None)
            return
        url = url if url.endswith("/") else url + "/"
        jnlp_url = urljoin(url, f"computer/{quote(s.name, safe='')}/jenkins-agent.jnlp?encrypt=true")
        values: dict[str, Any] = {"url": url, "name": s.name, "jnlp_url": jnlp_url}
        secret = s.secret.reveal().strip()
        if len(secret) < 32 or any(c not in "0123456789abcdefABCDEF" for c in secret):
            yield ctx.finding(self.id, Status.FAIL, "The secret is not hexadecimal: agent.jar cannot decrypt with it",
                              evidence={"secret_length": len(secret)}, fixes=[fix("jnlp_secret_format", **values)],
                              rests_on=())
            return
        # Trust is the TLS probes' verdict; here only the secret matters.
        untrusted = any(f.id == "discovery.https" for f in ctx.findings_of("discovery"))
        context = agent_ssl_context(ctx.agent, verify=not (s.no_certificate_check or untrusted))
        try:
            # Over the proxy the agent itself would use for an HTTP(S) download from the controller.
            parts = urlsplit(jnlp_url)
            route = ctx.agent.discovery_route(parts.scheme, parts.hostname or "")
            resp = await request(jnlp_url, timeout=ctx.step_timeout(), ssl_context=context, max_body=256 * 1024,
                                 proxy=route.proxy)
        except HttpError as exc:
            root = ctx.failure_of("discovery")
            yield ctx.finding(self.id, Status.SKIP if root else Status.FAIL,
                              f"Cannot fetch the agent file: {exc.message}"[:200], caused_by=root,
                              evidence={"jnlp_url": jnlp_url, "error_class": exc.kind},
                              fixes=[] if root else [fix("jnlp_blocked", status=exc.kind, **values)])
            return
        # An HTTP answer came back: what follows no longer rests on the agent's JVM taking the session.
        ctx.rests_on = ("url-answers", "jenkins-at-url")
        evidence: dict[str, Any] = {"jnlp_url": jnlp_url, "status_code": resp.status,
                                    "content_type": resp.headers.get("Content-Type"), "secret_sent": False}
        if resp.status == 404:
            yield ctx.finding(self.id, Status.FAIL, f"No agent named {s.name} on {url} (the agent file is 404)",
                              evidence=evidence, fixes=[fix("jnlp_node_unknown", **values)])
            return
        if resp.status != 200 or len(resp.body) <= 16:
            yield ctx.finding(self.id, Status.WARN, f"The agent file is not served ({resp.status}): secret not checked",
                              evidence=evidence, fixes=[fix("jnlp_blocked", status=resp.status, **values)])
            return
        if resp.body_truncated:
            evidence["bytes_read"] = len(resp.body)
            yield ctx.finding(self.id, Status.WARN,
                              f"The agent file is larger than {len(resp.body) // 1024} KB: not read, secret not checked",
                              detail="A real agent file is an encrypted XML document under 2 KB; something else "
                                     "answers at this URL.", evidence=evidence, fixes=[fix("jnlp_oversized", **values)])
            return
        try:
            args = jnlp_arguments(decrypt(resp.body, secret))
        except HostileXml as exc:
            evidence.update(decrypted=True, refused=str(exc))
            yield ctx.finding(
                self.id, Status.FAIL,
                f"The agent file for {s.name} declares a DTD or XML entities ({exc}): refused to parse it",
                detail="The file decrypts with the secret, but carries a DOCTYPE (an entity bomb or an external "
                       "entity); Jenkins' jenkins-agent.jnlp has none. It was not parsed.",
                evidence=evidence, fixes=[fix("jnlp_hostile", **values)])
            return
        evidence["decrypted"] = args is not None
        if args is None or not args or args[0] != secret.lower():
            yield ctx.finding(
                self.id, Status.FAIL,
                f"The secret is wrong for {s.name}: it does not decrypt the controller's agent file",
                detail="agent.jar -jnlpUrl would say 'Failed to decrypt the JNLP file. Invalid secret key?'; "
                       "over JNLP4 the controller answers 'Authorization failure'.",
                evidence=evidence, fixes=[fix("jnlp_secret_wrong", **values)])
            return
        # Arguments after "secret name": how the controller expects the agent to connect.
        options = args[2:]
        evidence["controller_options"] = options
        wants_ws = "-webSocket" in options
        tunnel = options[options.index("-tunnel") + 1] if "-tunnel" in options[:-1] else None
        differences = []
        if wants_ws != bool(s.websocket):
            differences.append("the node is set to " + ("WebSocket" if wants_ws else "TCP") + ", the agent uses "
                                + ("WebSocket" if s.websocket else "TCP"))
        if tunnel and tunnel != (s.tunnel or None):
            differences.append(f"the node sets -tunnel {tunnel}, the agent {s.tunnel or 'none'}")
        if differences:
            yield ctx.finding(self.id, Status.WARN, f"The secret is right for {s.name}, but " + "; ".join(differences),
                              evidence=evidence,
                              fixes=[fix("jnlp_mode_differs", difference="; ".join(differences), **values)])
            return
        yield ctx.finding(self.id, Status.PASS,
                          f"The secret is right for {s.name} (checked offline via the agent file)",
                          detail="Decrypted the controller's jenkins-agent.jnlp with the secret; the secret itself "
                                 "was not sent.", evidence=evidence)
