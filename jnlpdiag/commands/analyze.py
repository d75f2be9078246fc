"""``jnlpdiag analyze FILE.pcap``: explain a packet capture offline.

Reads pcap or pcapng files (jnlpdiag ``report --capture``, tcpdump, Wireshark) and reports, per TCP
connection, how far it got and why it stopped, as findings with fixes. A file that is not a capture,
or is cut short, is a clear error with exit code 3.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from jnlpdiag.run_report import EXIT_ERROR

NAME = "analyze"
HELP = "analyse a packet capture (pcap/pcapng from jnlpdiag, tcpdump or Wireshark) offline"
ORDER = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.pcap", help="capture file (pcap or pcapng)")
    parser.add_argument("--json", action="store_true", help="print one JSON document (schema jnlpdiag.analyze/1)")
    parser.add_argument("--redact", action="append", default=[], metavar="VALUE",
                        help="extra value to redact from the output (the agent secret from JENKINS_SECRET always is)")


def run(args: argparse.Namespace) -> int:
    from jnlpdiag.analyze import PcapError, analyze_file
    from jnlpdiag.localfile import LocalFileError, check_regular
    from jnlpdiag.output.findingtext import render_findings
    from jnlpdiag.redact import Redactor
    from jnlpdiag.run_report import exit_code_for

    redactor = Redactor([*args.redact, os.environ.get("JENKINS_SECRET", "")])
    try:
        check_regular(args.file)  # a FIFO or /dev/zero must not block or flood the read
        # Read as a stream: memory stays flat however large the capture (state per connection is bounded).
        analysis = analyze_file(args.file, os.path.basename(args.file))
    except LocalFileError as exc:
        print(redactor(f"jnlpdiag analyze: {exc}"), file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(redactor(f"jnlpdiag analyze: cannot read {args.file}: {exc.strerror or exc}"), file=sys.stderr)
        return EXIT_ERROR
    except PcapError as exc:
        print(redactor(f"jnlpdiag analyze: {args.file}: {exc}"), file=sys.stderr)
        return EXIT_ERROR
    if analysis.truncated:
        print(redactor(f"jnlpdiag analyze: {args.file}: the file is truncated ({analysis.truncated}); "
                       f"the {analysis.packets} complete packets are analysed below"), file=sys.stderr)
    if args.json:
        sys.stdout.write(json.dumps(redactor.data(analysis.to_dict()), indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        header = [f"{analysis.file}: {analysis.format}, {analysis.packets} packets, {analysis.tcp_packets} TCP, "
                  f"{len(analysis.streams)} TCP connections — {analysis.status.value.upper()}", ""]
        for st in analysis.streams:
            extra = []
            for key in ("tls_chosen", "certificate_subject"):
                if st.get(key):
                    extra.append(f"{key.split('_')[-1]}={st[key]}")
            for key in ("tls_alerts", "http", "websocket_close"):
                if st.get(key):
                    extra.append("; ".join(st[key]))
            header.append(f"  #{st['id']:<3} {st['client']:>22} -> {st['server']:<22} {st['kind']:<10} "
                          f"{st['packets']:>4} pkts  {'  '.join(extra)}".rstrip())
        sys.stdout.write(redactor(render_findings(analysis.findings, header)))
    return exit_code_for(analysis.status)
