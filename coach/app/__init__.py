"""The command line, the composition root, the console and the process plumbing (logs, one instance)."""
