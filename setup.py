"""Package list: probes/ (one module per built-in probe) installs as ``jnlpdiag.probes``.

setuptools cannot combine automatic package discovery with a folder mapped to a sub-package in
pyproject.toml alone, hence this file; everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["jnlpdiag", "jnlpdiag.*"]), "jnlpdiag.probes"],
    package_dir={"jnlpdiag.probes": "probes"},
)
