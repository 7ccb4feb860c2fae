"""Datasette for newsdedup databases: metadata (named queries, facets), plugin, templates.

They install with the package; `newsdedup serve` starts Datasette with them, which is
the same as::

    datasette news.db -m METADATA --plugins-dir PLUGINS_DIR --template-dir TEMPLATES_DIR \
        --setting suggest_facets off

(`newsdedup serve --paths` prints the three paths.) Datasette 0.65: named queries live
in the metadata file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
METADATA = HERE / "metadata.yml"
PLUGINS_DIR = HERE / "plugins"
TEMPLATES_DIR = HERE / "templates"

# Example parameters of the named queries (the benchmark and the tests run each query
# with these; a query not listed here runs with its parameters empty).
EXAMPLES: dict[str, dict[str, str]] = {
    "largest_clusters": {"since": "", "until": "", "min_size": "2"},
    "clusters_by_agency": {"agency": "dpa"},
    "story_spread": {"cluster_id": "{cluster_id}"},
    "containers": {"cluster_id": ""},
    "failures_by_reason": {"outlet": "", "runs": "24"},
}


def metadata() -> dict[str, Any]:
    """The metadata file, parsed."""
    import yaml

    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))


def datasette_args(db: str | Path) -> list[str]:
    """The `datasette` command-line arguments equivalent to `newsdedup serve`."""
    return [
        str(db),
        "--metadata",
        str(METADATA),
        "--plugins-dir",
        str(PLUGINS_DIR),
        "--template-dir",
        str(TEMPLATES_DIR),
        # Facet suggestions probe every column of a table page: seconds on 100k articles,
        # whose useful facets the metadata already sets.
        "--setting",
        "suggest_facets",
        "off",
    ]


def datasette_for(db: str | Path, **kwargs: Any):  # type: ignore[no-untyped-def]
    """A Datasette instance on `db` with the project's metadata, plugin and templates."""
    from datasette.app import Datasette

    return Datasette(
        [str(db)],
        metadata=metadata(),
        plugins_dir=str(PLUGINS_DIR),
        template_dir=str(TEMPLATES_DIR),
        settings={"suggest_facets": False, **kwargs.pop("settings", {})},
        **kwargs,
    )


def example_params(query: str, **values: str) -> dict[str, str]:
    """EXAMPLES[query] with `{name}` placeholders filled from `values`."""
    return {k: v.format(**values) for k, v in EXAMPLES.get(query, {}).items()}
