"""``jnlpdiag demo``: loopback endpoints that reproduce two real failures, for a first run.

What runs (all on 127.0.0.1, random ports, stopped on exit):

* ``controller``: the HTTP surface of a Jenkins controller that an inbound agent touches
  (discovery headers, ``/login``, ``/wsagents/``) and a TCP agent listener that answers the
  listener's plain-HTTP hello and the Ping protocol;
* ``proxy``: a reverse proxy in front of it that drops the WebSocket ``Upgrade`` header, as a
  proxy does when it is not configured for WebSocket;
* ``tls_front``: a TLS 1.3-only HTTPS front in front of the proxy.

The demo agent is configured (like a real inbound-agent container) for WebSocket with a JVM limited
to TLS 1.2, so the diagnosis finds both faults. Nothing here is used by ``check``.
"""

from jnlpdiag.demo.endpoints import DemoEndpoints

__all__ = ["DemoEndpoints"]
