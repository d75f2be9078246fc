"""TLS support for the ``tls.*`` probes: handshakes (pyOpenSSL), chain analysis (cryptography),
the agent JVM's TLS configuration (java.security, trust store) and the JVM outcome prediction.

Modules, one job each:

* :mod:`.endpoint` -- which TLS endpoint(s) a run checks, from the settings and discovery facts;
* :mod:`.handshake` -- one bounded pyOpenSSL handshake, every I/O step under one deadline;
* :mod:`.scan` -- accepted versions and cipher suites, ALPN, SNI behaviour (many handshakes, in parallel);
* :mod:`.ciphers` -- OpenSSL <-> IANA cipher-suite names;
* :mod:`.certs` -- chain description, verification (system store, CA file), host-name matching;
* :mod:`.truststore` -- read JKS / JCEKS / PKCS12 key stores without a JVM;
* :mod:`.javasecurity` -- ``java.security`` and its overrides, ``*.disabledAlgorithms`` constraints;
* :mod:`.jvmtls` -- the agent JVM's TLS configuration assembled from its home and options;
* :mod:`.predict` -- what that JVM will do against a scanned server;
* :mod:`.javacheck` -- run ``TlsCheck.java`` (package data) in that JVM and read its verdict;
* :mod:`.common` -- what the four probes share: targets (with the agent's proxy route), facts.

Fix texts live in ``data/fixes/tls.json`` (:mod:`jnlpdiag.fixcatalog`).
"""
