"""jnlpdiag: connectivity diagnostics for Jenkins inbound (JNLP) agents."""

__version__ = "0.1.0"
