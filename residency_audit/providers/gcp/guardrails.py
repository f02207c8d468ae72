"""Read the `gcp.resourceLocations` policy live, read-only, along org -> folders -> projects.

Discovery (Resource Manager: projects with their folder/organisation chains) and every
request go through the provider's guarded client (`client.GcpClient`), so the one
allow-list (`kinds.GUARDRAIL_READS`: Org Policy v2 `policies.get`) covers the audit too.
Each node's *own* policy is read (404 = none set) rather than the effective one, so the
evaluator (`orgpolicy.py`) can say at which scope a bad value was set.

Fail closed: a node whose policy cannot be read is a `Gap`, and the projects
below it are left out of the evaluation rather than guessed at (the scan is
then incomplete: exit 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core import Collector
from ...guardrails import GuardrailAdapter, InputError
from ...model import Gap, Resource
from ..base import ReadOnlyViolation, error_code
from .client import ApiError, describe
from .orgpolicy import CONSTRAINT, resources_from_export

if TYPE_CHECKING:
    from ...geography import Catalog
    from .projects import ProjectInfo
    from .scan import GcpAdapter

PROVIDER = "gcp"


def export_from_projects(projects: list[ProjectInfo]) -> dict[str, Any]:
    """The Resource Manager part of an export (organizations, folders, projects) from discovered chains."""
    orgs: dict[str, dict[str, Any]] = {}
    folders: dict[str, dict[str, Any]] = {}
    out_projects: list[dict[str, Any]] = []
    for p in projects:
        parent = ""
        for node in p.owner_or_id().path:  # root first
            name = f"{'organizations' if node.kind == 'organization' else 'folders'}/{node.id}"
            item: dict[str, Any] = {"name": name, "displayName": node.name}
            if parent:
                item["parent"] = parent
            (orgs if node.kind == "organization" else folders).setdefault(name, item)
            parent = name
        out_projects.append(
            {
                "name": f"projects/{p.number or p.project_id}",
                "projectId": p.project_id,
                "displayName": p.name,
                **({"parent": parent or p.parent} if (parent or p.parent) else {}),
            }
        )
    return {"organizations": list(orgs.values()), "folders": list(folders.values()), "projects": out_projects}


def _chain(doc: dict[str, Any], project: dict[str, Any]) -> list[str]:
    parents = {str(i["name"]): str(i.get("parent", "")) for k in ("organizations", "folders") for i in doc[k]}
    out = [str(project["name"])]
    parent = str(project.get("parent", ""))
    while parent and len(out) < 14:
        out.append(parent)
        parent = parents.get(parent, "")
    return out


def read_policies(adapter: GcpAdapter, collector: Collector, catalog: Catalog | None = None) -> list[Resource]:
    targets = adapter.discover(collector)
    if not targets:
        collector.note("gcp: no project in scope was readable")
        return []
    doc = export_from_projects(sorted(targets.values(), key=lambda p: p.project_id))
    for p in doc["projects"]:
        chain = _chain(doc, p)
        if not chain[-1].startswith("organizations/") and p.get("parent"):
            collector.gap(
                Gap(
                    PROVIDER,
                    str(p["projectId"]),
                    "",
                    "cloudresourcemanager",
                    f"the folder chain above {p['projectId']} stops at {chain[-1]}: policies set higher up are unknown",
                    "ChainIncomplete",
                )
            )
    nodes = sorted({n for p in doc["projects"] for n in _chain(doc, p)})
    policies: list[dict[str, Any]] = []
    unreadable: set[str] = set()
    collector.progress.add_work("gcp:orgpolicy", len(nodes))
    for node in nodes:
        try:
            policy = adapter.get_json("orgpolicy", f"/v2/{node}/policies/{CONSTRAINT}")
            policies.append(policy)
        except ReadOnlyViolation:
            raise
        except ApiError as exc:
            if exc.status != 404:  # 404: no policy set on this node (it inherits)
                unreadable.add(node)
                collector.gap(
                    Gap(
                        PROVIDER,
                        node,
                        "",
                        "orgpolicy",
                        f"{CONSTRAINT} not readable ({describe(exc)}); the projects below are not evaluated",
                        error_code(exc),
                    )
                )
        except Exception as exc:  # noqa: BLE001 - any other failure is a gap as well
            unreadable.add(node)
            collector.gap(Gap(PROVIDER, node, "", "orgpolicy", describe(exc), error_code(exc)))
        finally:
            collector.progress.done("gcp:orgpolicy", node)
    doc["policies"] = policies
    doc["projects"] = [p for p in doc["projects"] if not unreadable & set(_chain(doc, p))]
    if not doc["projects"]:
        return []
    try:
        return resources_from_export(doc, catalog)
    except InputError as exc:  # an answer of an unexpected shape: a gap, not a crash
        collector.gap(Gap(PROVIDER, "", "", "orgpolicy", f"unexpected policy shape: {exc}", "BadPolicy"))
        return []


def live_adapter(adapter: GcpAdapter, catalog: Catalog | None = None) -> GuardrailAdapter:
    """The audit over a configured `GcpAdapter` (its credentials, scope and endpoints)."""

    def produce(collector: Collector) -> list[Resource]:
        resources = read_policies(adapter, collector, catalog)
        if resources:
            collector.note(
                f"gcp: {CONSTRAINT} read per node with Org Policy v2 policies.get (own policy, not effective)"
            )
        return resources

    return GuardrailAdapter(PROVIDER, produce)
