"""Guardrail audit: would the organisation's own preventive controls stop the next
resource outside the EU?

Each gap in a control (a non-EU region still allowed, a scope without the
control, an exemption, a limit of what the control covers) becomes a
*pseudo-resource* of kind `guardrail.*`: its `locations` are the locations the
control lets through (role `allowed`, or `global` for global services), its
`attributes` say which scope to fix. They go through the normal scan path, so
the rules in `rules/guardrails.yaml` turn them into findings in every output
and with the usual exit codes; the art. 6 rules exclude `guardrail.*` kinds
(an allowed region is not data in that region).

Each provider package holds its evaluator (a pure function over the provider's API
shapes: `providers.aws.scp`, `providers.azure.policy`, `providers.gcp.orgpolicy`) and
its live reader (`providers.<cloud>.guardrails`), which reads read-only through the
scan's guarded client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core import Collector
from ..model import Gap, Resource

KIND_AWS_SCP = "guardrail.aws-scp"
KIND_AWS_EXEMPTION = "guardrail.aws-scp-exemption"
KIND_AZURE_POLICY = "guardrail.azure-policy"
KIND_GCP_ORG_POLICY = "guardrail.gcp-org-policy"

#: Location role of a location a control allows (as opposed to holds data).
ROLE_ALLOWED = "allowed"

#: `attributes["gap"]` values, matched by rules/guardrails.yaml.
GAP_REGION = "region-allowed"  # a non-EU (or unknown) location is allowed
GAP_UNCOVERED = "uncovered"  # no control applies at all to this scope
GAP_CONDITIONAL = "conditional"  # a control applies, but some principals/requests escape it
GAP_NOT_ENFORCED = "not-enforced"  # a control exists but only audits (or is set not to enforce)
GAP_EXEMPTION = "exemption"  # a scope or resource is exempted / excluded from the control
GAP_GLOBAL_SERVICE = "global-service"  # global services are exempted from the control
GAP_LIMIT = "coverage-limit"  # what the control by design does not cover (informational)


class InputError(ValueError):
    """An exported policy file that does not have the expected shape (exit 2 at the CLI)."""


@dataclass
class GuardrailAdapter:
    """An `Adapter` whose "inventory" is the guardrail pseudo-resources.

    `produce` reads (live or from a file) and evaluates; it reports what it
    could not read as gaps in the collector, so the scan is marked incomplete.
    """

    provider: str
    produce: Callable[[Collector], list[Resource]]

    def scan(self, collector: Collector) -> None:
        collector.progress.add_work(f"guardrails:{self.provider}", 1)
        try:
            for resource in self.produce(collector):
                collector.add(resource)
        finally:
            collector.progress.done(f"guardrails:{self.provider}", "evaluated")


__all__ = [
    "GAP_CONDITIONAL",
    "GAP_EXEMPTION",
    "GAP_GLOBAL_SERVICE",
    "GAP_LIMIT",
    "GAP_NOT_ENFORCED",
    "GAP_REGION",
    "GAP_UNCOVERED",
    "KIND_AWS_EXEMPTION",
    "KIND_AWS_SCP",
    "KIND_AZURE_POLICY",
    "KIND_GCP_ORG_POLICY",
    "ROLE_ALLOWED",
    "Gap",
    "GuardrailAdapter",
    "InputError",
]
