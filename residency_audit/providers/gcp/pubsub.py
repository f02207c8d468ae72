"""Pub/Sub: topics, located by their message storage policy or else by the
`pubsub.allowedPersistenceRegions` organisation policy effective on their project, and
subscriptions, whose retained messages are where their topic keeps them (and, for BigQuery
and Cloud Storage subscriptions, where those write them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...model import CopyLink, Location, Resource
from ..base import ReadOnlyViolation, error_code
from .client import ApiError
from .projects import ProjectInfo
from .readbase import NO_STORAGE_POLICY, ReadContext, labels_of, lower, record


def parse_topics(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    """Pub/Sub topics: messages are persisted only in the regions the storage policy allows;
    without a policy, wherever the organisation policy allows (`topic_policies`), so
    until that is read the location is unknown rather than assumed."""
    out = []
    for topic in items:
        full = str(topic.get("name", ""))
        name = full.rsplit("/", 1)[-1]
        if "/topics/" not in full:  # an Asset Inventory summary names the topic only
            full = f"projects/{project.project_id}/topics/{name}"
        policy = topic.get("messageStoragePolicy") or {}
        regions = [lower(r) for r in policy.get("allowedPersistenceRegions") or [] if isinstance(r, str)]
        locations = [Location(r, detail="message storage policy: allowed region") for r in regions if r]
        if not locations:
            locations = [Location(None, detail=NO_STORAGE_POLICY)]
        attrs: dict[str, Any] = {"storage_policy": "topic" if regions else "none"}
        if policy.get("enforceInTransit"):
            attrs["enforce_in_transit"] = True
        out.append(
            record(
                project,
                "pubsub.topic",
                f"//pubsub.googleapis.com/{full}",
                name,
                locations,
                labels_of(topic.get("labels")),
                attrs,
            )
        )
    return out


def topics(ctx: ReadContext) -> None:
    for topic in ctx.pages("pubsub", f"/v1/projects/{ctx.project.project_id}/topics", "topics"):
        ctx.add(parse_topics(ctx.project, [topic]))


def parse_subscriptions(project: ProjectInfo, items: list[dict[str, Any]]) -> list[Resource]:
    """Subscriptions: located by `subscription_topics` once the scan holds their topics and export targets."""
    out = []
    for sub in items:
        full = str(sub.get("name", ""))
        name = full.rsplit("/", 1)[-1]
        if "/subscriptions/" not in full:
            full = f"projects/{project.project_id}/subscriptions/{name}"
        attrs: dict[str, Any] = {"topic": str(sub.get("topic") or "")}
        table = str((sub.get("bigqueryConfig") or {}).get("table") or "")
        bucket = str((sub.get("cloudStorageConfig") or {}).get("bucket") or "")
        if table:
            attrs["bigquery_table"] = table
        if bucket:
            attrs["cloud_storage_bucket"] = bucket
        if (sub.get("pushConfig") or {}).get("pushEndpoint"):
            attrs["push"] = True
        topic = attrs["topic"]  # `_deleted-topic_` once its topic is gone
        links = [CopyLink("copy-of", f"//pubsub.googleapis.com/{topic}", "subscription")] if "/topics/" in topic else []
        if table and _bigquery_dataset(table):
            links.append(CopyLink("copies-to", _bigquery_dataset(table), "export", f"BigQuery table {table}"))
        if bucket:
            links.append(CopyLink("copies-to", f"//storage.googleapis.com/{bucket}", "export"))
        out.append(
            record(
                project,
                "pubsub.subscription",
                f"//pubsub.googleapis.com/{full}",
                name,
                [Location(None, detail=f"where topic {attrs['topic'] or '(none)'} keeps its messages")],
                labels_of(sub.get("labels")),
                attrs,
                links,
            )
        )
    return out


def subscriptions(ctx: ReadContext) -> None:
    for sub in ctx.pages("pubsub", f"/v1/projects/{ctx.project.project_id}/subscriptions", "subscriptions"):
        ctx.add(parse_subscriptions(ctx.project, [sub]))


def _bigquery_dataset(table: str) -> str:
    """`project.dataset.table` or `project:dataset.table` -> the dataset's full resource name."""
    project, _, rest = table.replace(":", ".", 1).partition(".")
    dataset = rest.split(".", 1)[0]
    return f"//bigquery.googleapis.com/projects/{project}/datasets/{dataset}" if project and dataset else ""


def subscription_topics(resources: list[Resource], lookup: Callable[[str], Resource | None]) -> None:
    """A subscription's retained messages are stored under its topic's storage policy; a BigQuery or
    Cloud Storage subscription copies them on. A target the scan does not hold: unknown."""
    for r in resources:
        topic = str(r.attributes.get("topic", ""))
        target = lookup(f"//pubsub.googleapis.com/{topic}") if topic else None
        what = f"messages of topic {topic or '(deleted)'}"
        if target is not None and target.locations:
            locations = [
                Location(loc.region, zone=loc.zone, detail=f"{what}: {loc.detail}") for loc in target.locations
            ]
        else:
            locations = [
                Location(None, detail=f"{what}: the topic is not in this scan, so where it keeps them is unknown")
            ]
        exports = [
            ("BigQuery table", str(r.attributes.get("bigquery_table", "")), _bigquery_dataset),
            (
                "Cloud Storage bucket",
                str(r.attributes.get("cloud_storage_bucket", "")),
                "//storage.googleapis.com/{}".format,
            ),
        ]
        for label, ref, full_name in exports:
            if not ref:
                continue
            copy = lookup(full_name(ref))
            detail = f"written to {label} {ref}"
            if copy is not None and copy.locations:
                locations += [
                    Location(loc.region, role="replica", zone=loc.zone, detail=detail) for loc in copy.locations
                ]
            else:
                locations.append(Location(None, role="replica", detail=f"{detail}, which is not in this scan: unknown"))
        r.locations = locations


# --------------------------------------------------------------------- Pub/Sub organisation policy

PERSISTENCE_CONSTRAINT = "pubsub.allowedPersistenceRegions"


def topic_policies(ctx: ReadContext, resources: list[Resource]) -> list[Resource]:
    """Topics without a storage policy: the regions the `pubsub.allowedPersistenceRegions`
    organisation policy effective on the project allows (read once per project and node)."""
    unpinned = [r for r in resources if r.attributes.get("storage_policy") == "none"]
    if unpinned:
        locations = ctx.memo(f"pubsub:persistence:{ctx.project.project_id}", lambda: _persistence_regions(ctx))
        for r in unpinned:
            r.locations = list(locations)
    return resources


def _policy_nodes(project: ProjectInfo) -> list[str]:
    """organizations/O, folders/F..., projects/NUMBER: the chain an organisation policy merges along."""
    nodes = [f"{'organizations' if n.kind == 'organization' else 'folders'}/{n.id}" for n in project.owner_or_id().path]
    return [*nodes, f"projects/{project.number or project.project_id}"]


def _persistence_regions(ctx: ReadContext) -> list[Location]:
    from .orgpolicy import Effective, expand, merge

    effective = Effective("all", {}, {}, "")
    for node in _policy_nodes(ctx.project):
        path = f"/v2/{node}/policies/{PERSISTENCE_CONSTRAINT}"
        try:
            spec = ctx.memo(f"orgpolicy:{node}:{PERSISTENCE_CONSTRAINT}", lambda p=path: _spec(ctx, p))  # type: ignore[misc]
        except ReadOnlyViolation:
            raise
        except ApiError as exc:
            return [
                Location(
                    None,
                    detail=f"{NO_STORAGE_POLICY}; {node}'s {PERSISTENCE_CONSTRAINT} policy is not readable "
                    f"({error_code(exc)})",
                )
            ]
        effective = merge(effective, spec, node)
    if effective.mode == "list":
        denied = set().union(*(expand(v) for v in effective.denied)) if effective.denied else set()
        allowed = set().union(*(expand(v) for v in effective.allowed)) - denied
        detail = f"organisation policy {PERSISTENCE_CONSTRAINT} (set at {effective.set_at}): allowed region"
        if allowed:
            return [Location(code, detail=detail) for code in sorted(allowed)]
    if effective.mode == "none":
        return [Location(None, detail=f"{NO_STORAGE_POLICY}; {PERSISTENCE_CONSTRAINT} denies every region")]
    return [Location(None, detail=f"{NO_STORAGE_POLICY}; no organisation policy restricts it")]


def _spec(ctx: ReadContext, path: str) -> dict[str, Any] | None:
    """A node's own policy spec; None when none is set there (404), or only a dry-run one."""
    try:
        doc = ctx.get_json("orgpolicy", path)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    spec = doc.get("spec")
    return spec if isinstance(spec, dict) else None
