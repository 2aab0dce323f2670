"""Policy pack `image-classifier`: every rule in rules.py, mandatory, on each Helm release."""

from collections.abc import Callable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from rules import RULES, Rule  # the pack runs as a directory: rules is top-level

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


def _validation(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type != RELEASE_TYPE:
            return
        # Only the values: other inputs (the namespace) may be unknown during a preview.
        values: dict[str, Any] = args.props.get("values") or {}
        for problem in rule(values):
            report_violation(problem, None)

    return validate


PolicyPack(
    name="image-classifier",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name=name,
            description=(rule.__doc__ or name).strip(),
            validate=_validation(rule),
        )
        for name, rule in RULES.items()
    ],
)
