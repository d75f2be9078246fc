"""Settings: what the agent would use, gathered from flags, .jnlp, a running agent and env."""

from jnlpdiag.settings.gather import SettingsError, SettingsLayer, gather
from jnlpdiag.settings.values import REDACTED, Secret, Settings

__all__ = ["REDACTED", "SettingsLayer", "Secret", "Settings", "SettingsError", "gather"]
