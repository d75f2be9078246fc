from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.jars import JDK25, build_agent_jar


@pytest.fixture(scope="session")
def jars(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """agent.jar-like jars compiled once per session by the real javac (Launcher for Java 11, 17, 25)."""
    d = tmp_path_factory.mktemp("agent-jars")
    out = {"j11": build_agent_jar(d / "j11.jar", "3261.v9c670a_4748a_9", 11, d),
           "j17": build_agent_jar(d / "j17.jar", "3355.v388858a_47b_33", 17, d)}
    if (JDK25 / "bin" / "javac").exists():
        out["j25"] = build_agent_jar(d / "j25.jar", "9999.vfeedfacecafe", 25, d)
    return out
