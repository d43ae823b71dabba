"""One module per CLI command, each with `run(argv) -> exit code`."""
