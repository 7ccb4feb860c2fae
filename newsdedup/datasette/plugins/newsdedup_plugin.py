"""Datasette plugin for newsdedup databases (the only module of `newsdedup.datasette`
that reads SQLite, always through Datasette's read-only connections).

- `/<database>/-/cluster/<cluster_id>`: the cluster page (template `cluster.html`).
- Cluster ids link to their page wherever they appear; article ids to their row.
- The "news" block of the metadata applies to a database of any file name.
- Pages of a database that was never crawled or deduplicated say so and how to fix it.

Load it with `datasette news.db --plugins-dir <this directory>`, or use `newsdedup serve`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from urllib.parse import quote

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup

from newsdedup.datasette.clusterpage import build_page, format_delay, segments_html

ARTICLE_ID_COLUMNS = {"article_id", "container_id", "representative", "exact_duplicate_of"}


def _file(datasette, database: str) -> str:
    path = datasette.get_database(database).path
    return Path(path).name if path else database


def problem(tables: set[str], file: str) -> str | None:
    """What keeps this database from having clusters to show, with the command to fix it."""
    if "articles" not in tables:
        return (
            f"{file} holds no newsdedup articles yet (no `articles` table): "
            f"crawl into it with `newsdedup crawl --db {file}` or `newsdedup ingest --db {file} ...`."
        )
    if "clusters" not in tables or "cluster_members" not in tables:
        return (
            f"{file} has not been deduplicated yet, so it has no clusters: "
            f"run `newsdedup dedup --db {file}`."
        )
    return None


@hookimpl
def get_metadata(datasette, key, database, table):
    # Datasette names a database after its file; the metadata describes "news". Give
    # the same block to every other database so demo.db or 2025.db get the queries too.
    # _metadata_local is the -m file as loaded (Datasette 0.65, pinned); datasette.metadata()
    # would call this hook again.
    local = getattr(datasette, "_metadata_local", None) or {}
    databases = local.get("databases") or {}
    block = databases.get("news")
    if not block:
        return None
    others = [n for n in datasette.databases if n != "_internal" and n not in databases]
    return {"databases": {n: copy.deepcopy(block) for n in others}} if others else None


@hookimpl
def render_cell(value, column, database, datasette):
    if not isinstance(value, str) or not value or database is None:
        return None
    base = datasette.urls.database(database)
    if column == "cluster_id":
        return Markup('<a href="{}/-/cluster/{}">{}</a>').format(base, quote(value, safe=""), value)
    if column in ARTICLE_ID_COLUMNS and len(value) == 16:
        return Markup('<a href="{}/articles/{}">{}</a>').format(base, quote(value, safe=""), value)
    return None


@hookimpl
def extra_template_vars(template, database, datasette):
    async def inner():
        if template not in ("query.html", "database.html") or not database:
            return {}
        db = datasette.get_database(database)
        return {"newsdedup_problem": problem(set(await db.table_names()), _file(datasette, database))}

    return inner


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["newsdedup_segments"] = lambda segments: Markup(segments_html(segments))
    env.filters["newsdedup_delay"] = format_delay
    env.filters["newsdedup_percent"] = lambda v: "—" if v is None else f"{100 * v:.0f}%"


@hookimpl
def register_routes():
    return [(r"^/(?P<database>[^/]+)/-/cluster/(?P<cluster_id>[^/]+)$", cluster_view)]


async def cluster_view(datasette, request):
    name = request.url_vars["database"]
    cluster_id = request.url_vars["cluster_id"]
    try:
        db = datasette.get_database(name)
    except KeyError:
        raise NotFound(f"Database not found: {name}") from None
    await datasette.ensure_permissions(
        request.actor, [("view-database", name), "view-instance"]
    )

    async def page(context: dict, status: int = 200) -> Response:
        html = await datasette.render_template(
            "cluster.html", {"database": name, "cluster_id": cluster_id, **context}, request=request
        )
        return Response.html(html, status=status)

    tables = set(await db.table_names())
    why = problem(tables, _file(datasette, name))
    if why:
        return await page({"problem": why, "title": "No clusters in this database"}, 404)
    row = (
        await db.execute(
            "SELECT cluster_id, representative, size, exact_duplicates, containers "
            "FROM clusters WHERE cluster_id = ?",
            [cluster_id],
        )
    ).first()
    if row is None:
        total = (await db.execute("SELECT COUNT(*) FROM clusters")).single_value()
        why = (
            f"No cluster {cluster_id!r} in {_file(datasette, name)}."
            + (
                " A cluster id is the 16-hex-digit id of its representative article;"
                " the largest clusters are listed by the largest_clusters query."
                if total
                else " The database holds no clusters yet: crawl or ingest articles first."
            )
        )
        return await page({"problem": why, "title": "Unknown cluster", "has_clusters": bool(total)}, 404)
    members = (
        await db.execute(
            "SELECT m.article_id, m.is_representative, m.share, m.similarity, m.exact_duplicate_of, "
            "a.outlet, a.title, a.url, a.published, a.agencies, a.text "
            "FROM cluster_members m JOIN articles a ON a.id = m.article_id WHERE m.cluster_id = ?",
            [cluster_id],
        )
    ).rows
    containers = (
        await db.execute(
            "SELECT d.container_id AS article_id, MAX(d.share) AS share, COUNT(*) AS copies_quoted, "
            "a.outlet, a.title, a.url, a.published, a.text "
            "FROM dedup_contains d JOIN articles a ON a.id = d.container_id "
            "WHERE d.cluster_id = ? GROUP BY d.container_id ORDER BY a.published, d.container_id",
            [cluster_id],
        )
    ).rows

    shingle_size = 5
    if "dedup_params" in tables:
        value = (
            await db.execute("SELECT value FROM dedup_params WHERE name = 'shingle_size'")
        ).first()
        if value:
            shingle_size = int(value[0])
    cluster = build_page(
        dict(row), [dict(r) for r in members], [dict(r) for r in containers], shingle_size=shingle_size
    )
    return await page({"cluster": cluster, "title": cluster.title or cluster_id})

