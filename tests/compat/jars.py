"""Build agent.jar-like jars with the real JDK: a compiled ``hudson/remoting/Launcher`` and a manifest.

The class is compiled by ``javac --release N``, so its class-file version is the one a real JVM
checks at start (and reports in ``UnsupportedClassVersionError``). The manifest carries
``Version:`` and ``Main-Class: hudson.remoting.Launcher`` as remoting's shaded jar does
(jenkinsci/remoting pom.xml, ManifestResourceTransformer ``<Version>${project.version}</Version>``).
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

JDK17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")
JDK25 = Path("/usr/lib/jvm/temurin-25-jdk-amd64")

LAUNCHER = """package hudson.remoting;
public class Launcher {
    public static void main(String[] args) { System.out.println("agent.jar stand-in"); }
}
"""


def javac_for(release: int) -> Path | None:
    for jdk in (JDK17, JDK25):
        javac = jdk / "bin" / "javac"
        if javac.exists() and (release <= 17 or jdk == JDK25):
            return javac
    return None


def build_agent_jar(dest: Path, version: str | None, release: int, workdir: Path) -> Path:
    """Compile Launcher for Java ``release`` and pack it with a manifest ``Version: version``."""
    javac = javac_for(release)
    if javac is None:
        import pytest

        pytest.skip(f"no javac on this machine can target Java {release}")
    src = workdir / f"src{release}" / "hudson" / "remoting"
    src.mkdir(parents=True, exist_ok=True)
    (src / "Launcher.java").write_text(LAUNCHER)
    out = workdir / f"classes{release}"
    if out.exists():
        shutil.rmtree(out)
    subprocess.run([str(javac), "--release", str(release), "-d", str(out), str(src / "Launcher.java")],
                   check=True, capture_output=True, timeout=120)
    manifest = "Manifest-Version: 1.0\r\nMain-Class: hudson.remoting.Launcher\r\n"
    if version:
        manifest += f"Version: {version}\r\n"
    manifest += "\r\n"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/MANIFEST.MF", manifest)
        zf.write(out / "hudson" / "remoting" / "Launcher.class", "hudson/remoting/Launcher.class")
    return dest
