"""One module per command group; each registers its commands on `newsdedup.cli.cli`."""
