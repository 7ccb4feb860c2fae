from newsdedup.cli import cli

cli()
