"""AWS guardrail audit: SCP evaluation results as `guardrail.*` pseudo-resources."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...core import Collector
from ...geography import Catalog, default_catalog
from ...guardrails import (
    GAP_CONDITIONAL,
    GAP_GLOBAL_SERVICE,
    GAP_REGION,
    GAP_UNCOVERED,
    KIND_AWS_EXEMPTION,
    KIND_AWS_SCP,
    ROLE_ALLOWED,
    GuardrailAdapter,
)
from ...model import Location, Owner, OwnerNode, Resource
from .scp import (
    ALLOWED,
    CONDITIONAL,
    AccountReport,
    Node,
    Organization,
    evaluate_organization,
    partition_regions,
    probe_data,
)

if TYPE_CHECKING:
    pass

PROVIDER = "aws"

MGMT_FIX = "no SCP can restrict the management account: keep workloads out of it and limit its IAM principals"
DISABLED_FIX = "the organisation root: enable the SERVICE_CONTROL_POLICY type, then attach a region deny"


def _owner(org: Organization, report: AccountReport) -> Owner:
    ous = tuple(OwnerNode("ou", n.id, n.name) for n in report.path if n.kind == "ou")
    acct = report.account
    return Owner("account", acct.id, acct.name, (OwnerNode("organization", org.id), *ous))


def _descendant_accounts(org: Organization) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path, acct in org.accounts():
        for n in path:
            out.setdefault(n.id, []).append(acct.id)
    return out


def _fix_scope(path: list[Node], leaky: dict[str, bool], under: dict[str, list[str]]) -> Node:
    """The highest scope on the path below which every (SCP-governable) account leaks."""
    for node in path[:-1]:
        members = [a for a in under.get(node.id, []) if a in leaky]
        if members and all(leaky[a] for a in members):
            return node
    return path[-1]


def scp_resources(
    org: Organization,
    reports: list[AccountReport],
    catalog: Catalog | None = None,
    estate_kinds: Iterable[str | Resource] | None = None,
) -> list[Resource]:
    """One pseudo-resource per account and gap kind (see rules/guardrails.yaml).

    `estate_kinds`: resource kinds (or the `Resource`s of a scan) the estate has,
    to say whether exempted global services are actually used; None = not checked.
    """
    catalog = catalog or default_catalog()
    kinds = (
        sorted({k.kind if isinstance(k, Resource) else k for k in estate_kinds}) if estate_kinds is not None else None
    )
    all_regions = set(partition_regions(org.partition, catalog))

    def outside(region: str) -> bool:
        return not catalog.resolve(PROVIDER, region).in_eu

    governable = {r.account.id: r for r in reports if not r.uncovered or not org.scp_enabled}
    leaky = {aid: bool(r.uncovered) or any(outside(x) for x in r.open_regions()) for aid, r in governable.items()}
    under = _descendant_accounts(org)
    out: list[Resource] = []
    for rep in reports:
        acct = rep.account
        owner = _owner(org, rep)
        path_text = " > ".join(n.label() for n in rep.path)
        base_id = f"guardrail:aws:scp:{org.id}:{acct.id}"
        policies = {n.label(): [p.name or p.id for p in n.policies] for n in rep.path}
        if rep.uncovered:
            fix = DISABLED_FIX if not org.scp_enabled else MGMT_FIX
            short = "enable SCPs at the root" if not org.scp_enabled else "not possible by SCP (management account)"
        else:
            fix = short = _fix_scope(rep.path, leaky, under).label()
        common: dict[str, Any] = {
            "scope": acct.label(),
            "path": path_text,
            "fix_scope": fix,
            "policies": policies,
            "control_tower": rep.control_tower,
            "allowed_regions": rep.open_regions(),
        }
        open_all = set(rep.open_regions()) == all_regions and all(d.status == ALLOWED for d in rep.regions.values())
        if rep.uncovered or open_all:
            reason = rep.uncovered or "no SCP on the path restricts regions"
            out.append(
                Resource(
                    PROVIDER,
                    KIND_AWS_SCP,
                    base_id,
                    f"{acct.label()}, fix: {short}",
                    owner,
                    [Location("*", ROLE_ALLOWED, detail=f"every region: {reason}")],
                    attributes={**common, "gap": GAP_UNCOVERED, "reason": reason},
                )
            )
            continue
        allowed = [r for r, d in sorted(rep.regions.items()) if d.status == ALLOWED and outside(r)]
        conditional = [r for r, d in sorted(rep.regions.items()) if d.status == CONDITIONAL and outside(r)]
        if allowed:
            out.append(
                Resource(
                    PROVIDER,
                    KIND_AWS_SCP,
                    base_id,
                    f"{acct.label()}, fix: {short}",
                    owner,
                    [Location(r, ROLE_ALLOWED, detail=rep.regions[r].why) for r in allowed],
                    attributes={
                        **common,
                        "gap": GAP_REGION,
                        "non_eu_allowed": allowed,
                        "allowed_actions": {r: rep.allowed_actions.get(r, []) for r in allowed},
                    },
                )
            )
        if conditional:
            escapes = sorted({e for r in conditional for e in rep.regions[r].escapes})
            out.append(
                Resource(
                    PROVIDER,
                    KIND_AWS_SCP,
                    f"{base_id}:conditional",
                    f"{acct.label()}, fix: {short}",
                    owner,
                    [Location(r, ROLE_ALLOWED, detail=rep.regions[r].why) for r in conditional],
                    attributes={
                        **common,
                        "gap": GAP_CONDITIONAL,
                        "non_eu_conditional": conditional,
                        "escapes": escapes,
                    },
                )
            )
        if rep.exempt_services:
            names = [p.name for p in rep.exempt_services]
            used = (
                sorted(
                    {
                        p.name
                        for p in rep.exempt_services
                        for k in kinds or []
                        if any(fnmatch.fnmatchcase(k, g) for g in p.kinds)
                    }
                )
                if kinds is not None
                else []
            )
            region = str(probe_data()["global_region"].get(org.partition, "us-east-1"))
            usage = (
                f"the estate uses {', '.join(used)}"
                if used
                else ("the scanned estate uses none of them" if kinds is not None else "estate usage not checked")
            )
            out.append(
                Resource(
                    PROVIDER,
                    KIND_AWS_EXEMPTION,
                    f"{base_id}:global-services",
                    f"{acct.label()}, fix: {short}",
                    owner,
                    [Location(region, "global", detail=f"exempted: {', '.join(names)}")],
                    attributes={
                        **common,
                        "gap": GAP_GLOBAL_SERVICE,
                        "exempt_services": names,
                        "exempt_actions": [p.action for p in rep.exempt_services],
                        "used_services": used,
                        "estate_checked": kinds is not None,
                        "usage": usage,
                        "what_they_hold": {p.name: p.note for p in rep.exempt_services},
                    },
                )
            )
    return out


def not_in_organization(account_id: str) -> Resource:
    """A standalone account: no SCP can apply to it."""
    reason = "the account is not in an AWS Organization: no SCP applies"
    fix = "put the account in an Organization and attach a region deny"
    return Resource(
        PROVIDER,
        KIND_AWS_SCP,
        f"guardrail:aws:scp:-:{account_id}",
        f"account {account_id}, fix: {fix}",
        Owner("account", account_id),
        [Location("*", ROLE_ALLOWED, detail=f"every region: {reason}")],
        attributes={"gap": GAP_UNCOVERED, "scope": f"account {account_id}", "fix_scope": fix, "reason": reason},
    )


def notes_for(org: Organization, reports: list[AccountReport]) -> list[str]:
    notes = []
    ct = sorted({n for r in reports for n in r.control_tower})
    if ct:
        notes.append(
            "aws: Control Tower region deny recognised in SCP(s) "
            + ", ".join(ct)
            + " (name aws-guardrails-* / Sid GRREGIONDENY): evaluated like any other SCP"
        )
    notes.append(
        "aws: SCPs do not restrict service-linked roles, nor copies made into accounts outside the organisation "
        "(S3 replication to a foreign bucket, shared snapshots copied by another account)"
    )
    return notes


def live_adapter(
    profile: str | None, estate_kinds: list[str] | None, catalog: Catalog | None = None
) -> GuardrailAdapter:
    """Reads the Organization with the standard credential chain, then evaluates."""

    def produce(collector: Collector) -> list[Resource]:
        from .client import session as make_session
        from .policies import read_organization

        session = make_session(profile)
        org, caller, readable = read_organization(session, collector)
        if not readable:
            return []
        if org is None:
            return [not_in_organization(caller)]
        reports = evaluate_organization(org, catalog)
        for note in notes_for(org, reports):
            collector.note(note)
        return scp_resources(org, reports, catalog, estate_kinds)

    return GuardrailAdapter(PROVIDER, produce)
