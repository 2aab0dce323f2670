"""Source ranges parsed as networks: a range wider than the configured prefix is a violation.

Comparing strings only catches the literal `0.0.0.0/0`; `0.0.0.0/1` (half the internet) or
`10.0.0.0/0` pass such a check. Each range is parsed with `ipaddress` and its prefix length
compared with the pack's limit, which `pulumi preview --policy-pack policy
--policy-pack-config <file>` can tighten per rule.
"""

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The policy config each range-checking rule accepts (JSON schema, with the defaults).
CONFIG_SCHEMA: dict[str, dict[str, Any]] = {
    "minIPv4PrefixLength": {
        "type": "integer",
        "minimum": 0,
        "maximum": 32,
        "default": 8,
        "description": "IPv4 ranges must be at least this narrow (/8: one private block)",
    },
    "minIPv6PrefixLength": {
        "type": "integer",
        "minimum": 0,
        "maximum": 128,
        "default": 32,
        "description": "IPv6 ranges must be at least this narrow",
    },
}


@dataclass(frozen=True)
class PrefixLimits:
    """The widest range allowed, as the shortest prefix length per address family."""

    ipv4: int = CONFIG_SCHEMA["minIPv4PrefixLength"]["default"]
    ipv6: int = CONFIG_SCHEMA["minIPv6PrefixLength"]["default"]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "PrefixLimits":
        """The limits from a policy's config (keys of CONFIG_SCHEMA); defaults where absent."""
        return cls(
            ipv4=int(config.get("minIPv4PrefixLength", cls.ipv4)),
            ipv6=int(config.get("minIPv6PrefixLength", cls.ipv6)),
        )


# A rule over one resource's properties (a release's values, a cluster's inputs, ...).
Rule = Callable[[Mapping[str, Any], PrefixLimits], list[str]]


def range_problems(key: str, ranges: Sequence[Any], limits: PrefixLimits) -> list[str]:
    """What is wrong with each of `ranges` (found at `key`): unparsable or too wide."""
    problems = []
    for index, text in enumerate(ranges):
        where = f"{key}[{index}] {text!r}"
        try:
            network = ipaddress.ip_network(str(text).strip(), strict=False)
        except ValueError:
            problems.append(f"{where} is not a network in CIDR notation")
            continue
        limit = limits.ipv4 if network.version == 4 else limits.ipv6
        if network.prefixlen < limit:
            problems.append(
                f"{where} spans {network.num_addresses} addresses, wider than the allowed "
                f"/{limit} (policy config minIPv{network.version}PrefixLength)"
            )
    return problems
