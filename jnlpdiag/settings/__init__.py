"""Settings: what the agent would use, gathered from flags, .jnlp, a running agent and env."""

from jnlpdiag.settings.gather import Layered, SettingsError, gather
from jnlpdiag.settings.model import REDACTED, Secret, Settings

__all__ = ["REDACTED", "Layered", "Secret", "Settings", "SettingsError", "gather"]
