from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Tests import their peers as `tests.peers...`; make the project root importable.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def ca():
    """A trustme CA for the whole session; issue leaf certs with ca.issue_cert("localhost", ...)."""
    import trustme

    return trustme.CA()


@pytest.fixture
def ca_file(ca, tmp_path):
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
