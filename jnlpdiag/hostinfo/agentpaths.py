"""The directories an inbound agent writes to, and where its JNI loaders unpack native code.

Sources (see ../shared research notes §7):

* ``java.io.tmpdir``: ``-Djava.io.tmpdir``, else ``/tmp``. On Linux the JVM ignores ``TMPDIR``
  (OpenJDK ``src/java.base/unix/native/libjava/java_props_md.c``: ``sprops.tmp_dir = P_tmpdir``).
  Remoting writes resources there (``Util.makeResource``); JNA falls back to it; jffi's
  ``StubLoader`` extracts its stub there unless ``-Djffi.extract.dir``.
* JNA (``com/sun/jna/Native.java`` ``getTempDir``, JNA 5): ``-Djna.tmpdir``, else
  ``$XDG_CACHE_HOME/JNA/temp`` or ``${user.home}/.cache/JNA/temp``; ``jnidispatch.path`` names the
  unpacked library itself.
* Remoting work dir (remoting ``docs/workDir.md``, ``Engine.startEngine``): ``-workDir`` with
  ``<internalDir>/jarCache`` (``-internalDir``, default ``remoting``) unless ``-jar-cache``; without a
  work dir the legacy ``${user.home}/.jenkins/cache/jars`` (``JarCache.DEFAULT_NOWS_JAR_CACHE_LOCATION``).

The agent's environment is read from ``/proc/<pid>/environ`` of a running agent when allowed
(only the few variables below are kept: that file also holds ``JENKINS_SECRET``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from jnlpdiag.jvm import jvm_option_words, system_properties
from jnlpdiag.settings import Settings

ENV_KEYS = ("HOME", "TMPDIR", "XDG_CACHE_HOME", "LD_LIBRARY_PATH", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS")
_MAX_ENVIRON = 256 * 1024


@dataclass
class AgentView:
    """What the agent process sees: its environment (selected keys), JVM options and -D properties."""

    env: dict[str, str]
    env_source: str
    cwd: str
    jvm_words: list[str]
    props: dict[str, str]

    @property
    def user_home(self) -> str:
        return self.props.get("user.home") or self.env.get("HOME") or os.path.expanduser("~")

    def abspath(self, path: str) -> str:
        """A path the agent names, relative to the agent's working directory."""
        return os.path.normpath(os.path.join(self.cwd, os.path.expanduser(path)))

    def setting_path(self, settings: Settings, name: str) -> str | None:
        """A path setting made absolute: relative to jnlpdiag's cwd when it came from a flag."""
        value = getattr(settings, name)
        if not value:
            return None
        if settings.origin(name).startswith("flag"):
            return os.path.abspath(os.path.expanduser(value))
        return self.abspath(value)


def agent_view(settings: Settings, env: dict[str, str] | None = None) -> AgentView:
    base = dict(os.environ if env is None else env)
    source, cwd = "this process (jnlpdiag)", os.getcwd()
    if settings.agent_pid:
        pid = settings.agent_pid
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                raw = fh.read(_MAX_ENVIRON)
            items = raw.decode("utf-8", "surrogateescape").split("\0")
            theirs = dict(item.split("=", 1) for item in items if "=" in item)
            for key in ENV_KEYS:
                if key in theirs:
                    base[key] = theirs[key]
                else:
                    base.pop(key, None)
            source = f"agent process {pid}"
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            source = f"this process (agent process {pid}'s environment is not readable)"
    words = jvm_option_words(settings, base)
    return AgentView(base, source, cwd, words, system_properties(words))


@dataclass
class AgentDir:
    path: str
    roles: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    needs_exec: bool = False  # native code is unpacked and loaded from here
    needs_write: bool = False  # the agent fails when it cannot write here
    may_be_missing: bool = True  # created on demand

    @property
    def role(self) -> str:
        return self.roles[0]


def _agent_option(argv: list[str], name: str) -> str | None:
    for i, word in enumerate(argv[:-1]):
        if word == name:
            return argv[i + 1]
    return None


def agent_dirs(settings: Settings, view: AgentView) -> list[AgentDir]:
    """Every directory to check, merged by real path (one entry may have several roles)."""
    found: dict[str, AgentDir] = {}

    def add(path: str, role: str, origin: str, *, exec_: bool = False, write: bool = False,
            may_be_missing: bool = True) -> None:
        full = view.abspath(path)
        key = os.path.realpath(full)
        entry = found.setdefault(key, AgentDir(full))
        entry.roles.append(role)
        entry.origins.append(origin)
        entry.needs_exec |= exec_
        entry.needs_write |= write
        entry.may_be_missing &= may_be_missing

    props = view.props
    tmpdir = props.get("java.io.tmpdir")
    add(tmpdir or "/tmp", "java.io.tmpdir",
        "-Djava.io.tmpdir" if tmpdir else "JVM default on Linux (TMPDIR is ignored)",
        exec_=True, write=True, may_be_missing=False)
    add("/tmp", "/tmp", "system temporary directory", may_be_missing=False)
    if view.env.get("TMPDIR"):
        add(view.env["TMPDIR"], "TMPDIR", f"env TMPDIR ({view.env_source})", may_be_missing=False)
    workdir = view.setting_path(settings, "workdir")
    if workdir:
        add(workdir, "workDir", settings.origin("workdir"), write=True)
    jar_cache = _agent_option(settings.agent_argv, "-jar-cache")
    internal = _agent_option(settings.agent_argv, "-internalDir") or "remoting"
    if jar_cache:
        add(jar_cache, "jarCache", "agent -jar-cache", write=True)
    elif workdir:
        add(os.path.join(workdir, internal, "jarCache"), "jarCache", f"-workDir/{internal}/jarCache",
            write=True)
    else:
        add(os.path.join(view.user_home, ".jenkins", "cache", "jars"), "jarCache",
            "legacy location without -workDir (${user.home}/.jenkins/cache/jars)", write=True)
    if props.get("jna.tmpdir"):
        add(props["jna.tmpdir"], "jna.tmpdir", "-Djna.tmpdir", exec_=True, write=True)
    else:
        xdg = view.env.get("XDG_CACHE_HOME")
        base = xdg if xdg else os.path.join(view.user_home, ".cache")
        add(os.path.join(base, "JNA", "temp"), "JNA cache", "JNA default (" + ("$XDG_CACHE_HOME" if xdg else "~/.cache")
            + "/JNA/temp, falls back to java.io.tmpdir)", exec_=True)
    if props.get("jffi.extract.dir"):
        add(props["jffi.extract.dir"], "jffi.extract.dir", "-Djffi.extract.dir", exec_=True, write=True)
    if props.get("jnidispatch.path"):
        add(os.path.dirname(view.abspath(props["jnidispatch.path"])), "jnidispatch.path", "-Djnidispatch.path",
            exec_=True)
    return list(found.values())


def jvm_library_dirs(java_home: str | None) -> list[str]:
    """Directories of the JVM's own libraries (already loaded in a JVM; JDK 9+ and Java 8 layouts)."""
    if not java_home:
        return []
    candidates = ["lib", "lib/server", "lib/client"]
    for arch in ("amd64", "aarch64", "i386", "ppc64le", "s390x"):
        candidates += [f"lib/{arch}", f"lib/{arch}/server", f"jre/lib/{arch}", f"jre/lib/{arch}/server"]
    return [p for c in candidates if os.path.isdir(p := os.path.join(java_home, c))]
