"""The terminal UI (Textual). Only ``jnlpdiag tui``, ``show`` and ``demo`` import ``jnlpdiag.tui.app``.

``jnlpdiag.tui.state`` and ``jnlpdiag.tui.loading`` are plain Python (no Textual) so the commands can
validate their input before paying for the Textual import.
"""
