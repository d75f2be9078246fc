"""WebSocket transport helpers: the /wsagents/ upgrade and the X-Remoting-Capability header."""
