"""tls.java: the HTTPS handshake to Jenkins as the agent's own JVM will do it.

Python, curl and browsers judge TLS with their own trust store and algorithms; the agent is a JVM
with its own. This probe finds that JVM (``--java``, the agent process, ``JAVA_HOME``, ``PATH``),
reads its version (``release``), its security configuration (``java.security`` plus
``-Djava.security.properties``), its protocol and cipher settings (``-Djdk.tls.client.protocols``,
``-Dhttps.protocols``, ...) and its trust and key stores, all from the agent's option words
(``JAVA_TOOL_OPTIONS``, ``JDK_JAVA_OPTIONS``, ``JAVA_OPTS`` or the process command line), and:

* **predicts** the outcome against the server as scanned now (jnlpdiag.tls.predict), and
* **observes** it (Java 8+): the TLS checker (``TlsCheck``, shipped compiled for Java 8) makes one
  ``HttpsURLConnection`` request in that JVM with those options and reports the JVM's verdict.

``--java-check predict`` never starts a JVM; ``run`` only observes; ``both`` (default) does both,
concurrently, and a disagreement between the two is a warning of its own.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.fixcatalog import fixes
from jnlpdiag.probe_api import Context, Option, Probe
from jnlpdiag.tls import certs, javacheck, jvmtls
from jnlpdiag.tls.clientauth import classify
from jnlpdiag.tls.endpoint import Endpoint
from jnlpdiag.tls.handshake import ALL_CIPHERS, Spec, handshake
from jnlpdiag.tls.javasecurity import master_file
from jnlpdiag.tls.keystore import AgentIdentity, write_pkcs12
from jnlpdiag.tls.predict import Prediction, ServerView, predict
from jnlpdiag.tls.scan import scan

from ._tls import Target, endpoints_or_skip, finding_id, mask_words, open_target

# Reason code -> fix keys in data/fixes/tls.json.
_FIXES = {
    "protocol": ("java_protocol",),
    "no_protocol": ("java_protocol",),
    "tls_rsa": ("java_tls_rsa", "java_tls_rsa_jvm"),
    "cipher": ("java_cipher",),
    "truststore": ("java_truststore",),
    "pkix": ("java_pkix", "java_pkix_truststore"),
    "expired": ("java_expired",),
    "not_yet_valid": ("java_expired",),
    "certpath": ("java_certpath",),
    "hostname": ("java_hostname",),
    "client_cert": ("java_client_cert",),
    "keystore": ("keystore_unreadable",),
    "connect": ("java_connect",),
}


class TlsJavaProbe(Probe):
    id = "tls.java"
    layer = Layer.PROTOCOL
    description = "The HTTPS handshake as the agent's JVM will do it: predicted from its configuration, and observed"
    # After tls.client_auth: a client-certificate failure here follows from the one it names.
    after = ("discovery", "tls.client_auth")
    options = (Option("java_check", "predict from the JVM's configuration, run a real JVM handshake, or both",
                      kind="choice", choices=("predict", "run", "both"), default="both"),)
    rests_on = ("url-answers",)

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        endpoints, skip = endpoints_or_skip(ctx, self.id)
        if skip is not None:
            yield skip
            return
        install = ctx.agent.java
        if install is None:
            yield ctx.finding(
                self.id,
                Status.SKIP,
                "Skipped: no java found for the agent",
                detail="No --java, no running agent process, no JAVA_HOME and no java on PATH.",
                fixes=fixes("tls", "no_java"),
            )
            return
        ident = await asyncio.to_thread(ctx.agent.client_identity)
        with ExitStack() as identity_files:
            words = ctx.agent.jvm_words + self._override_words(identity_files, ident)
            jvm = await asyncio.to_thread(jvmtls.build, install, words)
            async for finding in self._check(ctx, endpoints, install, jvm, words, ident):
                yield finding

    def _override_words(self, stack: ExitStack, ident: AgentIdentity | None) -> list[str]:
        """``--client-cert`` for the JVM: a PKCS12 store with a one-time password, in a private
        temporary directory removed when the probe ends."""
        if ident is None or ident.source != "--client-cert" or not ident.entries:
            return []
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="jnlpdiag-keystore-"))
        path = os.path.join(tmp, "client.p12")
        password = write_pkcs12(ident.entries[0], path)
        return [
            f"-Djavax.net.ssl.keyStore={path}",
            "-Djavax.net.ssl.keyStoreType=PKCS12",
            f"-Djavax.net.ssl.keyStorePassword={password}",
        ]

    async def _check(
        self,
        ctx: Context,
        endpoints: list[Endpoint],
        install: Any,
        jvm: jvmtls.JvmTls,
        words: list[str],
        ident: AgentIdentity | None,
    ) -> AsyncIterator[Finding]:
        s = ctx.settings
        keystore_error = ident.error if ident is not None and ident.source != "--client-cert" else None
        mode = ctx.option("java_check")
        for index, endpoint in enumerate(endpoints):
            fid = finding_id(self.id, index, endpoint)
            target = await open_target(ctx, endpoint)
            if isinstance(target, str):
                yield ctx.finding(fid, Status.SKIP, f"Skipped: {target}", evidence={"endpoint": endpoint.url})
                continue
            with ExitStack() as stack:
                cert_files, agent_certs = self._agent_certs(stack, s.agent_certs)
                observing = None
                if mode in ("run", "both") and (jvm.feature is None or jvm.feature >= javacheck.min_feature()):
                    observing = asyncio.create_task(
                        javacheck.observe(
                            install.executable,
                            jvm.java_home,
                            words,
                            endpoint.url,
                            ctx.step_timeout(),
                            insecure=s.no_certificate_check,
                            cert_files=cert_files,
                            env=ctx.agent.env,
                        )
                    )
                try:
                    prediction = None
                    if mode in ("predict", "both"):
                        view = await self._server_view(ctx, target, ident)
                        prediction = predict(
                            jvm,
                            view,
                            no_certificate_check=s.no_certificate_check,
                            agent_certs=agent_certs,
                            keystore_error=keystore_error,
                        )
                    observation = await observing if observing else None
                finally:
                    if observing and not observing.done():
                        observing.cancel()
            for finding in self._findings(ctx, fid, endpoint, install.origin, jvm, mode, words, prediction, observation):
                yield finding

    # -- gathering ---------------------------------------------------------------------------------

    def _agent_certs(self, stack: ExitStack, values: list[str]) -> tuple[list[str], list[x509.Certificate] | None]:
        """agent.jar ``-cert`` values (PEM text or ``@file``) as files for the checker, and parsed."""
        if not values:
            return [], None
        files: list[str] = []
        parsed: list[x509.Certificate] = []
        for value in values:
            if value.startswith("@"):
                path = value[1:]
            else:
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="jnlpdiag-cert-"))
                path = os.path.join(tmp, "cert.pem")
                with open(path, "w", encoding="ascii", errors="replace") as fh:
                    fh.write(value)
            files.append(path)
            try:
                parsed += certs.load_pem_file(path)
            except (OSError, ValueError):
                pass
        return files, parsed

    async def _server_view(self, ctx: Context, target: Target, ident: AgentIdentity | None) -> ServerView:
        """The server as the JVM will meet it: versions and suites, the chain (SunJSSE's SNI rule),
        client-certificate demands, and whether the JVM key store's certificate is accepted."""
        ep = target.endpoint
        deadline = time.monotonic() + ctx.step_timeout()
        host_header = ep.host if ep.port == 443 else ep.hostport
        auth_spec = Spec(
            ciphers=ALL_CIPHERS, sni=ep.java_sni, http_host=host_header, http_path=urlsplit(ep.url).path or "/"
        )
        result, bare = await asyncio.gather(
            scan(target.endpoint, target.dest, deadline), asyncio.to_thread(handshake, target.dest, auth_spec, deadline)
        )
        without = classify(bare, sent_certificate=False)
        required = without.kind == "refused"
        accepted = None
        # The certificate the JVM would choose for the CA names the server sent (SunX509).
        identity = ident.client_identity(bare.client_ca_names) if ident is not None and not ident.error else None
        if identity is not None:
            spec = Spec(ciphers=ALL_CIPHERS, sni=ep.java_sni, http_host=host_header, http_path=auth_spec.http_path,
                        identity=identity)
            with_cert = await asyncio.to_thread(handshake, target.dest, spec, deadline)
            accepted = classify(with_cert, sent_certificate=True).kind != "refused"
        return ServerView(
            host=ep.host,
            accepted_versions=result.accepted_versions,
            suites={v: result.suites(v) for v in result.accepted_versions},
            chain=[certs.der_to_cert(d) for d in result.chain_for_java()],
            client_auth_required=required,
            client_ca_names=bare.client_ca_names,
            identity_accepted=accepted,
        )

    # -- reporting ---------------------------------------------------------------------------------

    def _findings(
        self,
        ctx: Context,
        fid: str,
        ep: Endpoint,
        origin: str,
        jvm: jvmtls.JvmTls,
        mode: str,
        words: list[str],
        prediction: Prediction | None,
        observation: javacheck.Observation | None,
    ) -> list[Finding]:
        observed = observation.result if observation else None
        observed_code = javacheck.classify(observation) if observation else None
        observed_error: str | None
        needs = javacheck.min_feature()
        if observation is None and mode != "predict" and jvm.feature is not None and jvm.feature < needs:
            observed_error = f"Java {jvm.feature} cannot run the TLS checker (it needs Java {needs}+): prediction only"
        else:
            observed_error = observation.error if observation else None
        version = jvm.version or (observation.data.get("java_version") if observation else None)
        evidence: dict[str, Any] = {
            "endpoint": ep.url,
            "java": jvm.executable,
            "java_origin": origin,
            "java_version": version,
            "java_home": jvm.java_home,
            "java_check": mode,
            "predicted": prediction.outcome if prediction else None,
            "predicted_reason": prediction.message if prediction else None,
            "predicted_code": prediction.reason if prediction else None,
            "predicted_version": prediction.version if prediction else None,
            "predicted_suite": prediction.suite if prediction else None,
            "observed": observed,
            "observed_error": observed_error,
            "observed_code": observed_code,
            "observed_protocol": observation.data.get("protocol") if observation else None,
            "observed_suite": observation.data.get("suite") if observation else None,
            "jvm_options": mask_words(words),
            "jvm": jvm.summary(),
        }
        if prediction and prediction.details:
            evidence["prediction_details"] = prediction.details
        values = self._values(ctx, ep, jvm, words, prediction)
        failed = (prediction is not None and not prediction.ok) or observed == "fail"
        out: list[Finding] = []
        who = f"Java {version or '?'} ({jvm.executable})"
        cause = None
        if failed:
            code = (prediction.reason if prediction and not prediction.ok else observed_code) or "other"
            title_reason = observed_error if observed == "fail" else prediction.message if prediction else ""
            auth_id = fid.replace(self.id, "tls.client_auth", 1)
            if code in ("client_cert", "keystore") and any(
                f.id == auth_id and f.status is Status.FAIL for f in ctx.findings_of("tls.client_auth")
            ):
                cause = auth_id
            keys = _FIXES.get(code, ("java_disagreement",))
            if code == "pkix" and prediction and prediction.missing_issuer and not values.get("have_ca"):
                keys = ("java_pkix_chain", "java_pkix_chain_import", "java_pkix")
            if code in ("protocol", "no_protocol") and not values.get("server_modern", True):
                keys = ("legacy_only", "legacy_only_jvm")
            detail = self._detail(prediction, observation, observed_error)
            out.append(
                ctx.finding(
                    fid,
                    Status.FAIL,
                    f"The agent's JVM will fail the TLS handshake: {_short(title_reason)}",
                    detail=detail,
                    evidence=evidence,
                    fixes=fixes("tls", *keys, **values),
                    breaks=("tls-session-acceptable",),
                    caused_by=cause,
                )
            )
        else:
            how = "predicted and observed" if prediction and observed else "observed" if observed else "predicted"
            neg = (
                evidence["observed_protocol"] or evidence["predicted_version"],
                evidence["observed_suite"] or evidence["predicted_suite"],
            )
            out.append(
                ctx.finding(
                    fid,
                    Status.PASS,
                    f"{who} completes the TLS handshake ({how})",
                    detail=f"{neg[0]} with {neg[1]}. " + self._detail(prediction, observation, observed_error),
                    evidence=evidence,
                )
            )
        if prediction is not None and observed is not None and prediction.outcome != observed:
            out.append(
                ctx.finding(
                    f"{fid}.disagreement",
                    Status.WARN,
                    f"Prediction ({prediction.outcome}) and the JVM ({observed}) disagree about {ep.hostport}",
                    detail=f"Predicted: {prediction.message}. Observed: {observed_error or 'the handshake completed'}. "
                    "The JVM's own result is the one that counts; the prediction missed something in its "
                    "configuration.",
                    evidence={
                        k: evidence[k]
                        for k in (
                            "endpoint",
                            "java",
                            "java_version",
                            "predicted",
                            "predicted_reason",
                            "observed",
                            "observed_error",
                        )
                    },
                    fixes=fixes("tls", "java_disagreement", **values),
                )
            )
        return out

    def _detail(
        self, prediction: Prediction | None, observation: javacheck.Observation | None, observed_error: str | None
    ) -> str:
        parts = []
        if prediction:
            parts.append(f"Predicted: {prediction.outcome} ({prediction.message}).")
        if observation and observation.result:
            parts.append(f"Observed: {observation.result}" + (f" ({observed_error})." if observed_error else "."))
        elif observed_error:
            parts.append(f"Not observed: {observed_error}.")
        return " ".join(parts)

    def _values(
        self, ctx: Context, ep: Endpoint, jvm: jvmtls.JvmTls, words: list[str], prediction: Prediction | None
    ) -> dict[str, Any]:
        s = ctx.settings
        values: dict[str, Any] = {
            "url": ep.url,
            "host": ep.host,
            "port": ep.port,
            "hostport": ep.hostport,
            "java": jvm.executable,
            "java_version": jvm.version,
            "java_opts": " ".join(mask_words(words)),
            "checker": javacheck.checker_path_hint(),
            "truststore": jvm.truststore_path or "<truststore>",
            # A placeholder: the agent's own password is never printed.
            "storepass": "<password>",
            "alias": f"jenkins-{ep.host}",
            "san_kind": "IP" if ep.is_ip else "DNS",
            "java_security": str(master_file(jvm.java_home) or "<java.home>/conf/security/java.security"),
            "server_versions": "",
            "problem": "",
        }
        if prediction is None:
            return values
        details = prediction.details
        values["server_versions"] = ", ".join(details.get("server_versions", [])) or "see tls.versions"
        values["server_modern"] = any(v in ("TLSv1.2", "TLSv1.3") for v in details.get("server_versions", ["TLSv1.2"]))
        values["versions"] = values["server_versions"]
        values["versions_csv"] = ",".join(details.get("server_versions", []))
        values["problem"] = prediction.message
        values["missing"] = prediction.missing_issuer or ""
        # The certificate to import: one from --ca-file that the chain needs, or the self-signed top.
        needed: x509.Certificate | None = prediction.untrusted
        ca_pem = "jenkins-ca.pem"
        if s.ca_file and prediction.missing_issuer:
            try:
                match = [c for c in certs.load_pem_file(s.ca_file) if certs.name_str(c.subject) == prediction.missing_issuer]
            except (OSError, ValueError):
                match = []
            if match:
                needed, ca_pem = match[0], s.ca_file
                values["have_ca"] = True
        if prediction.untrusted is not None:
            values["have_ca"] = True
        values["ca_pem"] = ca_pem
        values["fingerprint"] = certs.sha256_fp(needed) if needed is not None else "<fingerprint>"
        return values


def _short(text: str | None, limit: int = 160) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
