"""Read-only facts about the agent's host, for the ``host.*`` probes.

One module per job: ``mountinfo`` (which mount a path is on, and its options), ``elf`` (what a
shared object needs), ``ldpath`` (where the dynamic loader would find it), ``execproof`` (prove a
directory can hold loadable native code, in a child process), ``cgroup`` (memory limit, usage,
OOM kills), ``jar`` (agent.jar's version and class-file level), ``jvmheap`` (heap sizing from JVM options),
``lsm`` (SELinux / AppArmor state), ``data`` (thresholds and error signatures, with sources).
The agent's own view (environment, JVM, directories) is :mod:`jnlpdiag.agent`.
"""
