"""The `newsdedup` command: a thin click layer over `crawler/` and `dedup/`.

Each command lives in its own module under `newsdedup/commands/` and registers
itself on the `cli` group; this module only wires them together.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsdedup")
def cli() -> None:
    """Crawl German-language news outlets and find agency copy.

    \b
    Example:
        newsdedup demo            # offline: crawl the built-in newsroom
        newsdedup crawl --db news.db
    """


def _register() -> None:
    # Imported for their side effect: each module adds its commands to `cli`.
    import importlib
    import pkgutil

    from newsdedup import commands

    for mod in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"newsdedup.commands.{mod}")


_register()

if __name__ == "__main__":
    cli()
