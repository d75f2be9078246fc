"""Version compatibility of an inbound agent: Jenkins core x remoting (agent.jar) x Java x kubernetes-plugin.

The knowledge is data (``jnlpdiag/data/compat-matrix.json``: facts, derivation tables, rules, each
row with its source URLs); this package loads it (:mod:`.data`), evaluates it against observed
versions (:mod:`.engine`), renders the supported-combinations table (:mod:`.table`) and reads
agent.jar files (:mod:`.jar`). See docs/compat.md.
"""

from jnlpdiag.compat.data import CompatData, DataError, load_data
from jnlpdiag.compat.engine import Evaluation, InputError, Observed, RuleResult, evaluate, evaluate_raw, observe

__all__ = ["CompatData", "DataError", "Evaluation", "InputError", "Observed", "RuleResult", "evaluate",
           "evaluate_raw", "load_data", "observe"]
