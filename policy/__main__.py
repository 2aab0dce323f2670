"""Policy pack `image-classifier`, every rule mandatory: rules.py's on each Helm release, the
exposure and GKE rules (resource_rules.py) on the resource types they name."""

import sys
from collections.abc import Callable
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from rules import RULES, Rule  # the pack runs as a directory: rules is top-level

# The repository root, so the modules the tests share import as `policy.*` here too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from policy.network_ranges import CONFIG_SCHEMA, PrefixLimits
from policy.network_ranges import Rule as ResourceRule
from policy.resource_rules import RELEASE_TYPE, RULES_BY_TYPE, subject


def _validation(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type != RELEASE_TYPE:
            return
        for problem in rule(subject(RELEASE_TYPE, args.props)):
            report_violation(problem, None)

    return validate


def _resource_validation(
    resource_type: str, rule: ResourceRule
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type != resource_type:
            return
        limits = PrefixLimits.from_config(args.get_config())
        for problem in rule(subject(resource_type, args.props), limits):
            report_violation(problem, None)

    return validate


policies: list[Policy] = [
    ResourceValidationPolicy(
        name=name,
        description=(rule.__doc__ or name).strip(),
        validate=_validation(rule),
    )
    for name, rule in RULES.items()
]
policies += [
    ResourceValidationPolicy(
        name=name,
        description=(rule.__doc__ or name).strip(),
        validate=_resource_validation(resource_type, rule),
        config_schema=PolicyConfigSchema(properties=CONFIG_SCHEMA),
    )
    for resource_type, rules in RULES_BY_TYPE.items()
    for name, rule in rules.items()
]

PolicyPack(
    name="image-classifier",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies,
)
