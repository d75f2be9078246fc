"""Real peers for tests: nginx, tinyproxy, Python TLS servers, helpers to run the CLI."""
