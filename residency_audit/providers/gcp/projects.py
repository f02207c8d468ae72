"""The projects in scope, each with its folder/organisation chain (Resource Manager v3).

Shared by the scan and the guardrail reader. Unreadable projects become gaps; a folder
or organisation that cannot be read ends its projects' owner chains there (a note).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core import Collector
from ...errors import CredentialsError
from ...model import Gap, Owner, OwnerNode
from ..base import ReadOnlyViolation, error_code
from .client import GcpClient, describe

PROVIDER = "gcp"


@dataclass
class ProjectInfo:
    project_id: str
    number: str = ""
    name: str = ""
    parent: str = ""  # folders/123 | organizations/456 | ""
    owner: Owner | None = None

    def owner_or_id(self) -> Owner:
        return self.owner or Owner("project", self.project_id, self.name)

    def in_scope(self, scope: str) -> bool:
        """scope: projects/ID, folders/ID or organizations/ID."""
        kind, _, ident = scope.partition("/")
        if kind == "projects":
            return ident in (self.project_id, self.number)
        want = {"folders": "folder", "organizations": "organization"}.get(kind)
        return any(n.kind == want and n.id == ident for n in self.owner_or_id().path)


def discover(
    client: GcpClient,
    collector: Collector,
    organizations: list[str],
    folders: list[str],
    projects: list[str],
) -> dict[str, ProjectInfo]:
    """Projects in scope, each with its owner chain; unreadable ones become gaps."""
    from google.auth import exceptions as gexc

    found: dict[str, ProjectInfo] = {}
    try:
        rm = client.resource_manager("ProjectsClient")
        if projects:
            for pid in projects:
                try:
                    p = rm.get_project(name=f"projects/{pid}")
                except gexc.GoogleAuthError:
                    raise
                except Exception as exc:  # noqa: BLE001 - this project is a gap, the rest goes on
                    collector.gap(Gap(PROVIDER, pid, "", "cloudresourcemanager", describe(exc), error_code(exc)))
                    continue
                found[p.project_id] = _project_info(p)
        else:
            for p in rm.search_projects(request={}):
                if p.state.name in ("ACTIVE", "STATE_UNSPECIFIED"):
                    found[p.project_id] = _project_info(p)
    except gexc.GoogleAuthError as exc:
        raise CredentialsError(f"Google credentials could not be used: {describe(exc)}") from None
    except ReadOnlyViolation:
        raise
    except Exception as exc:  # noqa: BLE001 - nothing discoverable: one gap, an empty scan
        collector.gap(Gap(PROVIDER, "", "", "cloudresourcemanager", describe(exc), error_code(exc)))
        return {}
    _owners(client, collector, found)
    if organizations or folders:
        scopes = [f"organizations/{o}" for o in organizations] + [f"folders/{f}" for f in folders]
        found = {k: p for k, p in found.items() if any(p.in_scope(s) for s in scopes)}
        if not found:
            collector.note(f"gcp: no visible project under {', '.join(scopes)}")
    return found


def _project_info(p: Any) -> ProjectInfo:
    return ProjectInfo(
        project_id=str(p.project_id),
        number=str(p.name).split("/")[-1],
        name=str(p.display_name or ""),
        parent=str(p.parent or ""),
    )


def _owners(client: GcpClient, collector: Collector, projects: dict[str, ProjectInfo]) -> None:
    """Folder and organisation chain of every project: two paged searches, gets for the rest."""
    folders: dict[str, tuple[str, str]] = {}  # folders/ID -> (display name, parent)
    orgs: dict[str, str] = {}  # organizations/ID -> display name
    needs_tree = any(p.parent for p in projects.values())
    if not needs_tree:
        return
    folder_client = client.resource_manager("FoldersClient")
    try:
        for f in folder_client.search_folders(request={}):
            folders[str(f.name)] = (str(f.display_name or ""), str(f.parent or ""))
    except Exception as exc:  # noqa: BLE001 - the chain then comes from folders.get
        collector.note(f"gcp: folders not searchable ({error_code(exc)}); reading them one by one")

    def folder(name: str) -> tuple[str, str]:
        """A folder search did not return (e.g. search not permitted): one get, cached."""
        if name not in folders:
            try:
                f = folder_client.get_folder(name=name)
                folders[name] = (str(f.display_name or ""), str(f.parent or ""))
            except Exception as exc:  # noqa: BLE001 - the chain stops at this folder
                collector.note(f"gcp: {name} not readable ({error_code(exc)}); owner chains stop there")
                folders[name] = ("", "")
        return folders[name]

    try:
        for o in client.resource_manager("OrganizationsClient").search_organizations(request={}):
            orgs[str(o.name)] = str(o.display_name or "")
    except Exception as exc:  # noqa: BLE001
        collector.note(f"gcp: organisations not searchable ({error_code(exc)}); owner chains show ids only")
    for p in projects.values():
        path: list[OwnerNode] = []
        parent = p.parent
        for _ in range(12):  # folders nest at most ten deep
            kind, _, ident = parent.partition("/")
            if kind == "folders":
                name, up = folder(parent)
                path.insert(0, OwnerNode("folder", ident, name))
                if not up:
                    break
                parent = up
            elif kind == "organizations":
                path.insert(0, OwnerNode("organization", ident, orgs.get(parent, "")))
                break
            else:
                break
        p.owner = Owner("project", p.project_id, p.name, tuple(path))


def asset_project(number: str, result: dict[str, Any]) -> ProjectInfo:
    """A project seen only through Asset Inventory (not visible to projects:search)."""
    path: list[OwnerNode] = []
    org = str(result.get("organization", "") or "")
    if org:
        path.append(OwnerNode("organization", org.split("/")[-1]))
    for f in reversed(result.get("folders") or []):  # Asset lists folders nearest first
        path.append(OwnerNode("folder", str(f).split("/")[-1]))
    return ProjectInfo(number, number, owner=Owner("project", number, "", tuple(path)))
