"""Flags shared by every command that runs checks (check, report, tui, the bare command)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from jnlpdiag.localfile import LocalFileError, check_regular
from jnlpdiag.options import Option, RunOptions, declared
from jnlpdiag.settings import Secret, Settings, SettingsError, SettingsLayer, gather
from jnlpdiag.usage import seconds


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("what to check (flags win over .jnlp, a running agent, and env)")
    target.add_argument("--url", help="Jenkins root URL, as given to agent.jar -url (env JENKINS_URL)")
    target.add_argument("--name", help="agent (node) name (env JENKINS_AGENT_NAME)")
    target.add_argument("--secret-file", metavar="FILE", help="file holding the agent secret (preferred)")
    target.add_argument("--secret", help="agent secret (discouraged: it lands in shell history; use --secret-file)")
    target.add_argument("--tunnel", metavar="HOST:PORT", help="agent.jar -tunnel value (env JENKINS_TUNNEL)")
    target.add_argument("--websocket", action="store_true", default=None,
                        help="the agent uses -webSocket (env JENKINS_WEB_SOCKET=true)")
    target.add_argument("--direct", metavar="HOST:PORT",
                        help="agent.jar -direct value (env JENKINS_DIRECT_CONNECTION)")
    target.add_argument("--instance-identity", metavar="B64",
                        help="controller public key, base64 (env JENKINS_INSTANCE_IDENTITY)")
    target.add_argument("--jnlp-file", metavar="FILE", help="read settings from a jenkins-agent.jnlp file")
    target.add_argument("--from-process", default="auto", metavar="auto|none|PID",
                        help="read settings from a running agent.jar process (default: auto)")
    target.add_argument("--workdir", metavar="DIR", help="agent -workDir (env JENKINS_AGENT_WORKDIR)")
    target.add_argument("--agent-jar", metavar="PATH", help="the agent.jar the agent runs")

    tls = parser.add_argument_group("TLS and Java")
    tls.add_argument("--ca-file", metavar="PEM", help="extra CA bundle to trust for HTTPS")
    tls.add_argument("--client-cert", metavar="PEM", help="client certificate to offer")
    tls.add_argument("--client-key", metavar="PEM", help="key of --client-cert")
    tls.add_argument("--java", metavar="PATH", help="the java executable the agent runs (default: JAVA_HOME, PATH)")

    run = parser.add_argument_group("how to run")
    run.add_argument("--timeout", type=seconds, default=None, metavar="S",
                     help="timeout of each network step, and of the whole run unless --deadline (default 10)")
    run.add_argument("--deadline", type=seconds, default=None, metavar="S", help="deadline of the whole run (default: --timeout)")
    run.add_argument("--probe", action="append", default=[], metavar="GLOB", help="run only matching probes (repeatable)")
    run.add_argument("--skip", action="append", default=[], metavar="GLOB", help="do not run matching probes (repeatable)")
    run.add_argument("--auth-check", action="store_true",
                     help="send the name and secret to the controller to check them (JNLP4 / WebSocket). "
                          "A completed WebSocket upgrade brings the node online for a moment.")
    run.add_argument("--redact", action="append", default=[], metavar="VALUE", help="extra value to redact from all output")
    run.add_argument("--debug", action="store_true", help="include tracebacks of probe errors")


# The words the CLI is about to parse (None: unknown, e.g. a parser built in-process). Probe
# modules are imported to learn their options only when a word may be one of them (or --help):
# a narrow health check (`check --probe agent.options`) must not import every probe.
_command_line: list[str] | None = None


def expect_command_line(argv: list[str]) -> None:
    global _command_line
    _command_line = list(argv)


def _probe_flags_wanted(taken: set[str]) -> bool:
    if _command_line is None:
        return True
    return any(w in ("-h", "--help") or (w.startswith("--") and w.split("=", 1)[0] not in taken)
               for w in _command_line)


def _probe_options() -> list[tuple[str, Option]]:
    from jnlpdiag.registry import load_probes

    probes, _errors = load_probes()  # a broken plug-in is reported when the run loads the probes
    return declared(probes)


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    """Every installed probe's own options, one group per probe (``options of probe tls.java``).

    Called last by each command that runs checks, once its own flags are known."""
    groups: dict[str, Any] = {}
    taken = {a for action in parser._actions for a in action.option_strings}
    added: list[Option] = []
    parser.set_defaults(probe_options_offered=added)
    if not _probe_flags_wanted(taken):
        return
    for probe_id, opt in _probe_options():
        if opt.flag in taken:
            print(f"jnlpdiag: warning: probe {probe_id} declares {opt.flag}, which is taken; not offered",
                  file=sys.stderr)
            continue
        taken.add(opt.flag)
        group = groups.get(probe_id) or groups.setdefault(probe_id, parser.add_argument_group(f"options of probe {probe_id}"))
        kwargs: dict[str, Any] = {"dest": f"probe_option_{opt.name}", "default": None, "help": opt.help,
                                  "metavar": opt.metavar}
        if opt.kind == "choice":
            kwargs.update(choices=opt.choices, metavar=opt.metavar or "{" + ",".join(opt.choices) + "}")
        elif opt.kind == "seconds":
            kwargs.update(type=seconds, metavar=opt.metavar or "S")
        elif opt.kind == "paths":
            kwargs.update(action="append", metavar=opt.metavar or "PATH")
        group.add_argument(opt.flag, **kwargs)
        added.append(opt)


def run_options_from_args(args: argparse.Namespace) -> RunOptions:
    """How to run: the time budget, --debug, --auth-check and every probe option given."""
    run = RunOptions()

    def given(name: str, value: Any, flag: str) -> None:
        if value is not None and value is not False:
            setattr(run, name, value)
            run.origins[name] = f"flag {flag}"

    given("timeout", args.timeout, "--timeout")
    given("deadline", args.deadline, "--deadline")
    given("auth_check", args.auth_check or None, "--auth-check")
    given("debug", args.debug or None, "--debug")
    for opt in getattr(args, "probe_options_offered", None) or ():
        value = getattr(args, f"probe_option_{opt.name}", None)
        if value is not None:
            run.probe_options[opt.name] = value
            run.origins[opt.name] = f"flag {opt.flag}"
    return run


def settings_from_args(args: argparse.Namespace, env: dict[str, str] | None = None) -> Settings:
    """Merge flags with the .jnlp file, a running agent and the environment."""
    env = dict(os.environ) if env is None else env
    flags = SettingsLayer()

    def flag(name: str, value: object, opt: str) -> None:
        flags.set(name, value, f"flag {opt}")

    flag("url", args.url, "--url")
    flag("name", args.name, "--name")
    if args.secret:
        print("jnlpdiag: warning: --secret puts the secret in your shell history and in `ps`; "
              "prefer --secret-file", file=sys.stderr)
        flag("secret", Secret(args.secret), "--secret")
    if args.secret_file:
        from jnlpdiag.settings.gather import read_secret_file

        flag("secret", read_secret_file(args.secret_file), "--secret-file")
    flag("tunnel", args.tunnel, "--tunnel")
    flag("websocket", args.websocket, "--websocket")
    flag("direct", args.direct, "--direct")
    flag("instance_identity", args.instance_identity, "--instance-identity")
    flag("workdir", args.workdir, "--workdir")
    flag("agent_jar", args.agent_jar, "--agent-jar")
    flag("ca_file", args.ca_file, "--ca-file")
    flag("client_cert", args.client_cert, "--client-cert")
    flag("client_key", args.client_key, "--client-key")
    flag("java", args.java, "--java")
    for path in (args.ca_file, args.client_cert, args.client_key, args.jnlp_file):
        if path and not os.path.exists(path):
            raise SettingsError(f"{path}: no such file")
        if path:
            try:
                check_regular(path)
            except LocalFileError as exc:
                raise SettingsError(str(exc)) from None
    settings = gather(flags, env, jnlp_file=args.jnlp_file, process=args.from_process)
    settings.run = run_options_from_args(args)
    return settings
