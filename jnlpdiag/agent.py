"""The agent every probe judges: one view of its process, environment, JVM and routes (``ctx.agent``).

Built once per run from the gathered settings (:func:`build_agent_view`), so that ``host.java`` and
``tls.java`` judge the same JVM with the same options and every probe takes the same proxy route.
Probes read the agent's environment, JVM and options only through it; they never read
``os.environ`` or run a ``java`` found on ``PATH`` on their own (``tests/test_agent_view.py``).

Where the view comes from: the running agent process when one was found (``--from-process``): its
``/proc/<pid>/environ`` (only :data:`ENV_KEYS` are taken: that file also holds ``JENKINS_SECRET``),
working directory, user and cgroup; otherwise this shell's environment ("none: judged from this
shell"). The JVM is found once (:func:`jnlpdiag.jvm.find_java`) and, when a probe asks, run once
for its properties (:meth:`AgentView.java_info`).

The directories the agent writes to, and where its JNI loaders unpack native code
(:func:`agent_dirs`). Sources:

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
"""

from __future__ import annotations

import asyncio
import os
import pwd
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jnlpdiag.jvm import JavaInfo, JavaInstall, describe_java, find_java, jvm_option_words, system_properties
from jnlpdiag.proxyroute import Route, agent_discovery_route, agent_tcp_route, curl_route
from jnlpdiag.settings import Settings

if TYPE_CHECKING:  # cryptography-heavy; imported where used
    from jnlpdiag.tls.jvmtls import JvmTls
    from jnlpdiag.tls.keystore import AgentIdentity

# The agent's variables that change what it does: its home and temp dirs, its native-library path,
# the JVM's own option variables and its JAVA_HOME.
ENV_KEYS = ("HOME", "TMPDIR", "XDG_CACHE_HOME", "LD_LIBRARY_PATH", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS",
            "JAVA_HOME")
NO_PROCESS = "none: judged from this shell"
_MAX_ENVIRON = 256 * 1024


@dataclass
class AgentView:
    """What the agent process sees and runs with.

    ``env`` is this shell's environment with the agent's own :data:`ENV_KEYS` laid over it;
    ``jvm_words`` are the JVM options in the order the JVM applies them and ``props`` their ``-D``
    system properties; ``java`` is the executable it runs (None when none was found).
    """

    settings: Settings = field(repr=False)
    env: dict[str, str] = field(repr=False)
    env_source: str
    origin: str  # "agent process 1234" or NO_PROCESS
    pid: int | None
    cwd: str
    argv: list[str]  # the agent's command line, secrets already redacted
    jvm_words: list[str]
    props: dict[str, str]
    java: JavaInstall | None
    uid: int
    user: str
    cgroup: str | None  # the agent's cgroup path (``/proc/<pid>/cgroup``), None when unreadable
    # The one run of the agent's java, in a list that views copied with dataclasses.replace (a fleet's
    # per-target views) share: java runs once for all of them, not once per target.
    _java_info: list[asyncio.Future[JavaInfo]] = field(default_factory=list, repr=False, compare=False)

    @property
    def proc(self) -> int | str:
        """Whose ``/proc`` entries (cgroup, LSM label) describe the agent: its PID, else ``"self"``."""
        return self.pid if self.pid is not None else "self"

    @property
    def user_home(self) -> str:
        return self.props.get("user.home") or self.env.get("HOME") or os.path.expanduser("~")

    @property
    def java_home(self) -> str | None:
        """The home of the agent's java (``<home>/bin/java``), from its real path; None without a java."""
        if self.java is None:
            return None
        return os.path.dirname(os.path.dirname(os.path.realpath(self.java.executable)))

    @property
    def in_kubernetes(self) -> bool:
        """The agent runs in a Kubernetes pod (the kubelet sets ``KUBERNETES_SERVICE_HOST``)."""
        return bool(self.env.get("KUBERNETES_SERVICE_HOST"))

    @property
    def workdir(self) -> str | None:
        """The agent's ``-workDir``, absolute."""
        return self.setting_path("workdir")

    def abspath(self, path: str) -> str:
        """A path the agent names, relative to the agent's working directory."""
        return os.path.normpath(os.path.join(self.cwd, os.path.expanduser(path)))

    def setting_path(self, name: str) -> str | None:
        """A path setting made absolute: relative to jnlpdiag's cwd when it came from a flag."""
        value = getattr(self.settings, name)
        if not value:
            return None
        if self.settings.origin(name).startswith("flag"):
            return os.path.abspath(os.path.expanduser(value))
        return self.abspath(value)

    # -- routes ---------------------------------------------------------------------------------

    def discovery_route(self, scheme: str, host: str) -> Route:
        """The proxy (or none) agent.jar takes for an HTTP(S) request to ``host``."""
        return agent_discovery_route(scheme, host, self.settings, self.props)

    def tcp_route(self, host: str) -> Route:
        """The proxy (or none) agent.jar takes for the raw TCP agent port on ``host``."""
        return agent_tcp_route(host, self.settings, self.props)

    def curl_route(self, scheme: str, host: str) -> Route:
        """What curl in the agent's environment would take, for comparison."""
        return curl_route(scheme, host, self.settings)

    # -- the JVM --------------------------------------------------------------------------------

    async def java_info(self, timeout: float) -> JavaInfo | None:
        """The agent's java, run once per run for its properties (None when there is no java).

        Every probe that asks shares the one run; the first asker's ``timeout`` bounds it.
        """
        if self.java is None:
            return None
        if not self._java_info:
            self._java_info.append(asyncio.ensure_future(describe_java(self.java, timeout, env=self.env)))
        return await asyncio.shield(self._java_info[0])

    def jvm_tls(self) -> JvmTls | None:
        """The JVM's TLS configuration (protocols, suites, trust and key stores); no JVM is started."""
        if self.java is None:
            return None
        from jnlpdiag.tls import jvmtls

        return jvmtls.build(self.java, self.jvm_words)

    def client_identity(self) -> AgentIdentity | None:
        """The client certificate the agent presents: ``--client-cert``/``--client-key`` when given,
        else its JVM's ``-Djavax.net.ssl.keyStore`` (a relative path is the agent's cwd's); None
        when it has neither. Read once per file version (:mod:`jnlpdiag.tls.keystore`)."""
        from jnlpdiag.tls.keystore import load_identity

        props = dict(self.props)
        store = props.get("javax.net.ssl.keyStore")
        if store and store != "NONE":
            props["javax.net.ssl.keyStore"] = self.abspath(store)
        return load_identity(props, self.setting_path("client_cert"), self.setting_path("client_key"))

    def child_env(self, **overrides: str) -> dict[str, str]:
        """The environment for a helper process that must see what the agent sees."""
        return {**self.env, **overrides}

    def public_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin, "environment": self.env_source, "cwd": self.cwd, "user": self.user,
            "java": self.java.executable if self.java else None,
            "java_origin": self.java.origin if self.java else None, "cgroup": self.cgroup,
        }


def _read_environ(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as fh:
        raw = fh.read(_MAX_ENVIRON)
    items = raw.decode("utf-8", "surrogateescape").split("\0")
    return dict(item.split("=", 1) for item in items if "=" in item)


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _cgroup(proc: int | str) -> str | None:
    """The cgroup path: the v2 entry (``0::/path``), else the v1 memory controller's."""
    try:
        with open(f"/proc/{proc}/cgroup", encoding="utf-8", errors="replace") as fh:
            lines = fh.read(64 * 1024).splitlines()
    except OSError:
        return None
    entries = [line.split(":", 2) for line in lines if line.count(":") >= 2]
    for hid, controllers, path in entries:
        if hid == "0" and controllers == "":
            return path
    for _hid, controllers, path in entries:
        if "memory" in controllers.split(","):
            return path
    return entries[0][2] if entries else None


def build_agent_view(settings: Settings, env: dict[str, str] | None = None) -> AgentView:
    """The view of the agent named by ``settings`` (its process when ``settings.agent_pid``)."""
    base = dict(os.environ if env is None else env)
    source, cwd, origin = "this process (jnlpdiag)", os.getcwd(), NO_PROCESS
    uid = os.geteuid()
    pid = settings.agent_pid
    if pid:
        origin = f"agent process {pid}"
        try:
            theirs = _read_environ(pid)
            for key in ENV_KEYS:
                if key in theirs:
                    base[key] = theirs[key]
                else:
                    base.pop(key, None)
            source = f"agent process {pid}"
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            source = f"this process (agent process {pid}'s environment is not readable)"
        try:
            uid = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            pass
    words = jvm_option_words(settings, base)
    return AgentView(
        settings=settings, env=base, env_source=source, origin=origin, pid=pid or None, cwd=cwd,
        argv=list(settings.agent_argv), jvm_words=words, props=system_properties(words),
        java=find_java(settings, base), uid=uid, user=_user(uid), cgroup=_cgroup(pid or "self"),
    )


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


def agent_dirs(view: AgentView) -> list[AgentDir]:
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
    workdir = view.workdir
    if workdir:
        add(workdir, "workDir", view.settings.origin("workdir"), write=True)
    jar_cache = _agent_option(view.argv, "-jar-cache")
    internal = _agent_option(view.argv, "-internalDir") or "remoting"
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
