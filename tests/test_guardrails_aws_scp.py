"""The SCP evaluator over tricky policies: exact region sets, exemptions, fix scopes."""

from __future__ import annotations

from typing import Any

import pytest

from residency_audit.engine import evaluate, load_rules
from residency_audit.geography import default_catalog
from residency_audit.model import Location, Owner, Resource
from residency_audit.providers.aws.guardrails import MGMT_FIX, scp_resources
from residency_audit.providers.aws.scp import (
    ALLOWED,
    CONDITIONAL,
    DENIED,
    Node,
    Organization,
    PolicyError,
    decide,
    evaluate_organization,
    parse_policy,
    partition_regions,
)

FULL = parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "p-FullAWSAccess", "Full")
GLOBAL_NOT_ACTION = ["iam:*", "cloudfront:*", "route53:*", "sts:*", "organizations:*", "support:*"]
EU_FOUR = ["eu-west-1", "eu-central-1", "eu-north-1", "eu-west-3"]

REGIONS = partition_regions("aws")
CATALOG = default_catalog()
NON_EU = {r for r in REGIONS if not CATALOG.resolve("aws", r).in_eu}


def deny(condition: dict[str, Any], not_action: list[str] | None = None, action: Any = "*", name: str = "d") -> Any:
    st: dict[str, Any] = {"Effect": "Deny", "Resource": "*", "Condition": condition}
    if not_action is not None:
        st["NotAction"] = not_action
    else:
        st["Action"] = action
    return parse_policy({"Version": "2012-10-17", "Statement": [st]}, f"p-{name}", name)


def allow(action: Any, condition: dict[str, Any] | None = None, name: str = "a") -> Any:
    st: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": "*"}
    if condition:
        st["Condition"] = condition
    return parse_policy({"Statement": st}, f"p-{name}", name)


def one_account(root: list[Any], ou: list[Any], acct: list[Any]) -> Organization:
    a = Node("account", "111111111111", "prod", acct)
    o = Node("ou", "ou-r-11111111", "Workloads", ou, [a])
    return Organization("o-test", Node("root", "r-test", "Root", root, [o]), "999999999999")


def open_non_eu(org: Organization) -> set[str]:
    (rep,) = evaluate_organization(org)
    return {r for r in rep.open_regions() if r in NON_EU}


def test_region_universe_is_the_commercial_partition() -> None:
    assert {"us-east-1", "eu-west-2", "eu-central-2", "eu-west-1"} <= set(REGIONS)
    assert not {"cn-north-1", "us-gov-west-1", "eusc-de-east-1"} & set(REGIONS)
    assert {"eu-west-2", "eu-central-2", "us-east-1"} <= NON_EU and "eu-west-1" not in NON_EU


@pytest.mark.parametrize(
    ("case", "ou", "expected_non_eu"),
    [
        ("FullAWSAccess only: nothing restricted", [FULL], NON_EU),
        (
            "StringNotEquals with a NotAction list: EU-only for data",
            [FULL, deny({"StringNotEquals": {"aws:RequestedRegion": EU_FOUR}}, GLOBAL_NOT_ACTION)],
            set(),
        ),
        (
            "eu-* wildcard admits London and Zurich",
            [FULL, deny({"StringNotLike": {"aws:RequestedRegion": ["eu-*"]}})],
            {"eu-west-2", "eu-central-2"},
        ),
        (
            "ForAnyValue / IfExists variants reduce to the base operator",
            [FULL, deny({"ForAnyValue:StringNotEqualsIfExists": {"aws:RequestedRegion": EU_FOUR}})],
            set(),
        ),
        (
            "StringNotEqualsIgnoreCase with upper-case values",
            [FULL, deny({"StringNotEqualsIgnoreCase": {"aws:RequestedRegion": [r.upper() for r in EU_FOUR]}})],
            set(),
        ),
        (
            "case-sensitive StringNotEquals with upper-case values denies every region",
            [FULL, deny({"StringNotEquals": {"aws:RequestedRegion": [r.upper() for r in EU_FOUR]}})],
            set(),
        ),
        (
            "Null aws:RequestedRegion=true never matches: the deny is dead",
            [FULL, deny({"Null": {"aws:RequestedRegion": "true"}})],
            NON_EU,
        ),
        (
            "Allow list replacing FullAWSAccess, with a region condition (eu-?????-?)",
            [allow(["ec2:*", "s3:*"], {"StringLike": {"aws:RequestedRegion": ["eu-*"]}})],
            {"eu-west-2", "eu-central-2"},
        ),
        (
            "Allow list of EU regions only (full IAM language SCP)",
            [allow("*", {"StringEquals": {"aws:RequestedRegion": EU_FOUR}})],
            set(),
        ),
        (
            "a Deny with a positive StringEquals list blocks only those regions",
            [FULL, deny({"StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}})],
            NON_EU - {"us-east-1", "us-west-2"},
        ),
    ],
)
def test_open_non_eu_regions(case: str, ou: list[Any], expected_non_eu: set[str]) -> None:
    assert open_non_eu(one_account([FULL], ou, [FULL])) == expected_non_eu, case


def test_deny_limited_to_some_services_leaves_the_others_open() -> None:
    org = one_account(
        [FULL], [FULL, deny({"StringNotEquals": {"aws:RequestedRegion": EU_FOUR}}, action="ec2:*")], [FULL]
    )
    (rep,) = evaluate_organization(org)
    assert {r for r in rep.open_regions() if r in NON_EU} == NON_EU
    assert not any(a.startswith("ec2:") for a in rep.allowed_actions["us-east-1"])
    assert "rds:CreateDBInstance" in rep.allowed_actions["us-east-1"]
    assert rep.regions["us-east-1"].why == (
        "12 of 15 probed actions (denied: ec2:RunInstances, ec2:CreateVolume, ec2:CopySnapshot): "
        "no SCP on the path denies it"
    )


def test_allow_list_narrows_the_probed_actions() -> None:
    org = one_account([FULL], [allow(["ec2:*", "s3:*"], {"StringLike": {"aws:RequestedRegion": ["eu-*"]}})], [FULL])
    (rep,) = evaluate_organization(org)
    assert set(rep.allowed_actions["eu-west-2"]) == {
        "s3:CreateBucket",
        "s3:PutObject",
        "ec2:RunInstances",
        "ec2:CreateVolume",
        "ec2:CopySnapshot",
    }
    assert decide(rep.path, "rds:CreateDBInstance", "eu-west-1").status == DENIED


def test_missing_allow_at_account_level_is_an_implicit_deny() -> None:
    org = one_account([FULL], [FULL], [])
    (rep,) = evaluate_organization(org)
    assert rep.open_regions() == []
    assert rep.regions["us-east-1"].why == "no SCP at account prod (111111111111) allows it (implicit deny)"


def test_not_action_exempts_global_services() -> None:
    org = one_account(
        [FULL], [FULL, deny({"StringNotEquals": {"aws:RequestedRegion": EU_FOUR}}, GLOBAL_NOT_ACTION)], [FULL]
    )
    (rep,) = evaluate_organization(org)
    assert sorted(p.name for p in rep.exempt_services) == sorted(
        ["IAM", "STS", "Organizations", "CloudFront", "Route 53", "Support"]
    )
    assert sorted(rep.open_regions()) == sorted(EU_FOUR)


def test_control_tower_region_deny_is_recognised_and_conditional() -> None:
    ct = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "GRREGIONDENY",
                    "Effect": "Deny",
                    "NotAction": [*GLOBAL_NOT_ACTION, "kms:*", "sso:*"],
                    "Resource": "*",
                    "Condition": {
                        "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
                        "ArnNotLike": {"aws:PrincipalARN": ["arn:aws:iam::*:role/AWSControlTowerExecution"]},
                    },
                }
            ],
        },
        "p-ct",
        "aws-guardrails-AbCdEf",
    )
    org = one_account([FULL], [FULL, ct], [FULL])
    (rep,) = evaluate_organization(org)
    assert rep.control_tower == ["aws-guardrails-AbCdEf"]
    statuses = {r: d.status for r, d in rep.regions.items()}
    assert {r for r, s in statuses.items() if s == CONDITIONAL} == set(REGIONS) - {"eu-west-1", "eu-central-1"}
    assert statuses["eu-west-1"] == ALLOWED
    assert any("AWSControlTowerExecution" in e for e in rep.regions["us-east-1"].escapes)
    # global services are open to everyone, the rest only to the escaping principals
    assert {p.service for p in rep.exempt_services} == {
        "iam",
        "sts",
        "organizations",
        "cloudfront",
        "route53",
        "support",
        "kms",
        "sso",
    }


def test_deny_at_ou_level_versus_account_level_and_fix_scopes() -> None:
    eu_only = deny({"StringNotEquals": {"aws:RequestedRegion": EU_FOUR}}, name="eu-only")
    prod = Node("account", "111111111111", "prod", [FULL])
    staging = Node("account", "222222222222", "staging", [FULL])
    lab1 = Node("account", "333333333333", "lab1", [FULL, eu_only])  # account-level deny
    lab2 = Node("account", "444444444444", "lab2", [FULL])
    sand1 = Node("account", "555555555555", "sand1", [FULL])
    sand2 = Node("account", "666666666666", "sand2", [FULL])
    mgmt = Node("account", "999999999999", "management", [FULL, eu_only], management=True)
    workloads = Node("ou", "ou-r-aaaaaaaa", "Workloads", [FULL, eu_only], [prod, staging])
    labs = Node("ou", "ou-r-bbbbbbbb", "Labs", [FULL], [lab1, lab2])
    sandbox = Node("ou", "ou-r-cccccccc", "Sandbox", [FULL], [sand1, sand2])
    org = Organization(
        "o-test", Node("root", "r-test", "Root", [FULL], [workloads, labs, sandbox, mgmt]), "999999999999"
    )
    reports = evaluate_organization(org)
    resources = scp_resources(org, reports, estate_kinds=[])
    got = {(r.owner.name, r.attributes["gap"], r.attributes["fix_scope"]) for r in resources}
    assert got == {
        ("lab2", "uncovered", "account lab2 (444444444444)"),
        ("sand1", "uncovered", "OU Sandbox (ou-r-cccccccc)"),
        ("sand2", "uncovered", "OU Sandbox (ou-r-cccccccc)"),
        ("management", "uncovered", MGMT_FIX),
    }
    by_id = {r.account.name: r for r in reports}
    assert by_id["prod"].open_regions() == sorted(EU_FOUR) == by_id["lab1"].open_regions()
    assert by_id["management"].uncovered == "management account: SCPs never apply to it"


def test_scp_type_disabled_means_nobody_is_covered() -> None:
    org = one_account([FULL], [FULL, deny({"StringNotEquals": {"aws:RequestedRegion": EU_FOUR}})], [FULL])
    org.scp_enabled = False
    (res,) = scp_resources(org, evaluate_organization(org))
    assert res.attributes["gap"] == "uncovered"
    assert "SERVICE_CONTROL_POLICY" in res.attributes["reason"]


def test_findings_through_the_rule_engine() -> None:
    """Guardrail pseudo-resources get RA-GR-* findings only, never the art. 6 ones."""
    ou = [FULL, deny({"StringNotLike": {"aws:RequestedRegion": ["eu-*"]}}, GLOBAL_NOT_ACTION, name="eu-star")]
    org = one_account([FULL], ou, [FULL])
    estate: list[str | Resource] = [
        Resource(
            "aws",
            "cloudfront.distribution",
            "arn:aws:cloudfront::1:distribution/E1",
            "cdn",
            Owner("account", "1"),
            [Location("us-east-1", "edge")],
        ),
        "s3.bucket",
    ]
    resources = scp_resources(org, evaluate_organization(org), estate_kinds=estate)
    findings = evaluate(resources, load_rules(), CATALOG)
    got = {(f.rule_id, f.severity, f.region) for f in findings}
    assert got == {
        ("RA-GR-REGION", "high", "eu-west-2"),
        ("RA-GR-REGION", "high", "eu-central-2"),
        ("RA-GR-GLOBAL-USED", "medium", "us-east-1"),
    }
    london = next(f for f in findings if f.region == "eu-west-2")
    assert london.message == (
        "account prod (111111111111): the guardrail still allows eu-west-2 (Europe (London), GB): "
        "'eu-star' at OU Workloads (ou-r-11111111) does not apply "
        "(StringNotLike aws:RequestedRegion: 'eu-west-2' matches 'eu-*'). Fix at root r-test"
    )
    used = next(f for f in findings if f.rule_id == "RA-GR-GLOBAL-USED")
    assert "the estate uses CloudFront" in used.message


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ("{not json", "not JSON"),
        ('{"Version": "2012-10-17"}', "no Statement"),
        ('{"Statement": [{"Effect": "Maybe", "Action": "*"}]}', "Effect must be Allow or Deny"),
        ('{"Statement": {"Effect": "Deny", "Action": "*", "NotAction": "iam:*"}}', "exactly one of Action"),
    ],
)
def test_malformed_policies_are_named(doc: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        parse_policy(doc, "p-x", "broken")
