"""Built-in probes, one module each; installed as the package ``jnlpdiag.probes``.

Each is registered in pyproject.toml under the entry-point group ``jnlpdiag.probes``.
"""
