"""The pre-deploy gate's input: Terraform plans read into the same records as live scans."""

from .adapter import PlanAdapter, supported_types
from .plan import PlanError, check_plan, read_plan

__all__ = ["PlanAdapter", "PlanError", "check_plan", "read_plan", "supported_types"]
