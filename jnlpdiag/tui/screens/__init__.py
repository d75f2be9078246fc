"""Screens of the TUI: the main results screen and the modal dialogs."""
