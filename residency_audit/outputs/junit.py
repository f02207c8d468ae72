"""JUnit XML for CI test reports (GitLab, Jenkins, Azure DevOps, GitHub test reporters).

One testcase per checked resource; its active findings are its failure; a
resource of a type that was not modelled is skipped unless it failed; coverage
gaps are errors; an expired exception is a failing testcase of its own.
Findings below the run's `--fail-on` threshold (recorded in the request
options) are listed in system-out, not as failures. Provider-agnostic.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from ..model import Finding, Resource, RunPolicy, ScanResult, severity_rank
from ..safetext import xml


def render(result: ScanResult, policy: RunPolicy | None = None) -> str:
    threshold = severity_rank((policy or RunPolicy()).fail_on)
    by_resource: dict[str, list[Finding]] = defaultdict(list)
    extra: dict[str, Resource] = {}
    for f in result.findings:
        by_resource[f.resource.id].append(f)
        extra.setdefault(f.resource.id, f.resource)
    resources = list(result.resources)
    known = {r.id for r in resources}
    resources += [r for rid, r in extra.items() if rid not in known]

    suite = ET.Element("testsuite", name=f"residency-audit {result.scan.request.provider}")
    tests = failures = errors = skipped = 0
    for r in resources:
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=f"{r.provider}.{r.kind}", name=r.id)
        file = r.attributes.get("file")
        if isinstance(file, str):
            case.set("file", file)
            if isinstance(r.attributes.get("line"), int):
                case.set("line", str(r.attributes["line"]))
        found = by_resource.get(r.id, [])
        failing = [f for f in found if not f.suppressed_by and severity_rank(f.severity) >= threshold]
        other = [f for f in found if f not in failing]
        if failing:
            failures += 1
            worst = max(failing, key=lambda f: severity_rank(f.severity))
            el = ET.SubElement(
                case,
                "failure",
                message=f"{len(failing)} finding(s), worst {worst.severity}: {worst.message}",
                type=worst.rule_id,
            )
            el.text = "\n".join(f"[{f.severity}] {f.rule_id}: {f.message}" for f in failing)
        elif r.part_of:
            skipped += 1
            ET.SubElement(case, "skipped", message=f"a setting of {r.part_of}: judged as part of it")
        if other:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(
                f"[{f.severity}] {f.rule_id}: {f.message}"
                + (f" (suppressed by {f.suppressed_by})" if f.suppressed_by else "")
                for f in other
            )
    for g in result.scan.gaps:
        tests += 1
        errors += 1
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{g.provider}.coverage",
            name=f"{g.scope} {g.region or 'global'} {g.service}".strip(),
        )
        message = f"coverage gap, scan incomplete: {g.error}"
        ET.SubElement(case, "error", message=message, type=g.code or "gap").text = message
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    suite.set("timestamp", result.scan.started_at.strftime("%Y-%m-%dT%H:%M:%S"))
    if result.scan.notes:
        ET.SubElement(suite, "system-out").text = "\n".join(result.scan.notes)
    root = ET.Element(
        "testsuites", name="residency-audit", tests=str(tests), failures=str(failures), errors=str(errors)
    )
    root.append(suite)
    _well_formed(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _well_formed(root: ET.Element) -> None:
    """Every name, message and note through `safetext.xml`, in one pass over the finished tree:
    ElementTree escapes markup but writes characters XML 1.0 forbids (ESC, NUL, ...) as they are."""
    for el in root.iter():
        if el.text:
            el.text = xml(el.text)
        for key, value in el.attrib.items():
            el.attrib[key] = xml(value)
