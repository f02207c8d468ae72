"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

Each finding is a result whose logical location is the resource id (for a plan,
its Terraform address) and whose physical location is the file and line the
resource came from, when the producer recorded them in `attributes`
(`file`, `line`). Suppressed findings stay in the log with an accepted
suppression, as the format intends. Provider-agnostic.
"""

from __future__ import annotations

from typing import Any

from .. import jsonio
from ..model import Finding, RunPolicy, ScanResult
from ..safetext import sarif_text

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
#: GitHub ranks security results by this number (0.0-10.0).
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}


def _rule(f: Finding) -> dict[str, Any]:
    text = f.title or f.rule_id
    rule: dict[str, Any] = {
        "id": f.rule_id,
        "name": "".join(w.capitalize() for w in text.replace("-", " ").split()) or f.rule_id,
        "shortDescription": {"text": text},
        "defaultConfiguration": {"level": _LEVEL.get(f.severity, "error")},
        "properties": {
            "security-severity": _SECURITY_SEVERITY.get(f.severity, "9.5"),
            "severity": f.severity,
            "tags": ["data-residency", "security"],
        },
    }
    if f.clause:
        rule["fullDescription"] = {"text": f.clause}
        rule["help"] = {"text": f.clause}
    return rule


def _location(f: Finding) -> dict[str, Any]:
    r = f.resource
    loc: dict[str, Any] = {
        "logicalLocations": [
            {
                "name": r.name or r.id,
                "fullyQualifiedName": str(r.attributes.get("address") or r.id),
                "kind": "resource",
            }
        ]
    }
    file = r.attributes.get("file")
    if isinstance(file, str) and file:
        physical: dict[str, Any] = {"artifactLocation": {"uri": file.replace("\\", "/")}}
        line = r.attributes.get("line")
        if isinstance(line, int) and line >= 1:
            physical["region"] = {"startLine": line}
        loc["physicalLocation"] = physical
    return loc


def to_dict(result: ScanResult) -> dict[str, Any]:
    from .. import __version__

    rules: dict[str, dict[str, Any]] = {}
    for f in result.findings:
        if f.rule_id not in rules:
            rules[f.rule_id] = _rule(f)
    index = {rid: i for i, rid in enumerate(rules)}
    results = []
    for f in result.findings:
        loc = f.location
        props: dict[str, Any] = {
            "severity": f.severity,
            "provider": f.resource.provider,
            "kind": f.resource.kind,
            "resourceId": f.resource.id,
            "region": f.region,
            "countries": list(f.countries),
        }
        if loc is not None:
            props["role"] = loc.location.role
            if loc.location.detail:
                props["detail"] = loc.location.detail
        item: dict[str, Any] = {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": _LEVEL.get(f.severity, "error"),
            "message": {"text": sarif_text(f.message)},
            "locations": [_location(f)],
            "partialFingerprints": {"residencyAudit/v1": f.fingerprint},
            "properties": props,
        }
        if f.suppressed_by:
            item["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": f"accepted risk {f.suppressed_by}"}
            ]
        results.append(item)
    scan = result.scan
    notifications = [
        {
            "level": "error",
            "message": {
                "text": sarif_text(
                    f"coverage gap, scan incomplete: {g.provider} {g.scope} {g.region or 'global'} {g.service}: "
                    f"{g.code + ': ' if g.code else ''}{g.error}"
                )
            },
        }
        for g in scan.gaps
    ] + [{"level": "note", "message": {"text": sarif_text(n)}} for n in scan.notes]
    invocation: dict[str, Any] = {"executionSuccessful": scan.complete}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    if scan.started_at:
        invocation["startTimeUtc"] = scan.started_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if scan.finished_at:
        invocation["endTimeUtc"] = scan.finished_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "residency-audit",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "automationDetails": {"id": f"residency-audit/{scan.request.provider}/"},
                "invocations": [invocation],
                "results": results,
                "properties": {"scanId": scan.id, "complete": scan.complete, "resources": len(result.resources)},
            }
        ],
    }


def render(result: ScanResult, policy: RunPolicy | None = None) -> str:
    # No indent: a code-scanning upload is read by machines, and a big plan's log stays small.
    return jsonio.dumps(to_dict(result)) + "\n"
