"""Gate speed: whole-process time for a 10,000-resource plan, as a ratio to json.load.

Generates a `terraform show -json`-shaped plan (AWS, Azure and Google resources,
provider aliases, a variable-driven region, modules with passed providers,
replication configurations), then times in the same run, as subprocesses:

  baseline: python -c "import json; json.load(open(PLAN))"
  gate:     python -m residency_audit gate PLAN --format F --output OUT --quiet

Target: gate / baseline <= 3 (median of several repetitions), on this rich plan and on a
lean one (`--lean`: ~0.5 KB per resource, provider-level regions only, where the gate's
per-resource and fixed costs weigh more against a quick parse). Prints the figures.
The package is byte-compiled first, as an installed wheel would be.

    python benchmarks/gate_bench.py [--resources 10000] [--repeat 7] [--format sarif] [--no-compile] [--lean]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

AWS = "registry.terraform.io/hashicorp/aws"
AZ = "registry.terraform.io/hashicorp/azurerm"
GCP = "registry.terraform.io/hashicorp/google"

_BUCKET_UNKNOWN = {
    k: True
    for k in [
        "acceleration_status",
        "acl",
        "arn",
        "bucket_domain_name",
        "bucket_prefix",
        "bucket_regional_domain_name",
        "cors_rule",
        "grant",
        "hosted_zone_id",
        "id",
        "lifecycle_rule",
        "logging",
        "object_lock_configuration",
        "object_lock_enabled",
        "policy",
        "region",
        "replication_configuration",
        "request_payer",
        "server_side_encryption_configuration",
        "tags_all",
        "versioning",
        "website",
        "website_domain",
        "website_endpoint",
    ]
}


def _const(v: Any) -> dict[str, Any]:
    return {"constant_value": v}


def _resource(i: int) -> tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any], str]:
    """(type, name, after, after_unknown, expressions, provider key) for resource number i."""
    n = i % 10
    if n in (0, 1, 2):
        name = f"acme-data-{i}"
        return (
            "aws_s3_bucket",
            f"b{i}",
            {"bucket": name, "force_destroy": False, "tags": {"team": "data", "n": str(i)}, "timeouts": None},
            dict(_BUCKET_UNKNOWN),
            {"bucket": _const(name)},
            ("aws", "aws.ireland", "aws.us")[n],
        )
    if n == 3:
        return (
            "aws_instance",
            f"vm{i}",
            {
                "ami": "ami-0123456789abcdef0",
                "instance_type": "t3.micro",
                "availability_zone": "eu-west-1a",
                "tags": None,
            },
            {
                "arn": True,
                "id": True,
                "private_ip": True,
                "public_ip": True,
                "root_block_device": True,
                "tags_all": True,
            },
            {"ami": _const("ami-0123456789abcdef0"), "instance_type": _const("t3.micro")},
            "aws.ireland",
        )
    if n == 4:
        return (
            "aws_dynamodb_table",
            f"t{i}",
            {
                "name": f"table-{i}",
                "billing_mode": "PAY_PER_REQUEST",
                "hash_key": "id",
                "attribute": [{"name": "id", "type": "S"}],
                "replica": [{"region_name": "eu-central-1" if i % 20 else "us-east-1"}],
            },
            {"arn": True, "id": True, "stream_arn": True, "replica": [{"arn": True}]},
            {"name": _const(f"table-{i}")},
            "aws",
        )
    if n in (5, 6):
        return (
            "azurerm_storage_account",
            f"sa{i}",
            {
                "name": f"acmesa{i}",
                "resource_group_name": "rg",
                "location": "westeurope" if n == 5 else "uksouth",
                "account_tier": "Standard",
                "account_replication_type": "GRS",
                "tags": None,
            },
            {"id": True, "primary_blob_endpoint": True, "secondary_location": True, "primary_access_key": True},
            {"name": _const(f"acmesa{i}"), "location": _const("westeurope")},
            "azurerm",
        )
    if n in (7, 8):
        return (
            "google_storage_bucket",
            f"g{i}",
            {
                "name": f"acme-g-{i}",
                "location": "EUR4" if n == 7 else "EUR7",
                "storage_class": "STANDARD",
                "labels": None,
            },
            {"id": True, "self_link": True, "url": True, "project": True, "effective_labels": True},
            {"name": _const(f"acme-g-{i}")},
            "google",
        )
    return (
        "google_compute_instance",
        f"c{i}",
        {"name": f"vm-{i}", "machine_type": "e2-small", "labels": None},
        {"id": True, "instance_id": True, "zone": True, "self_link": True, "network_interface": True},
        {"name": _const(f"vm-{i}")},
        "google",
    )


def _config(rtype: str, name: str, key: str, exprs: dict[str, Any]) -> dict[str, Any]:
    """A resource in `configuration` (addresses there are relative to their module)."""
    return {
        "address": f"{rtype}.{name}",
        "mode": "managed",
        "type": rtype,
        "name": name,
        "provider_config_key": key,
        "expressions": exprs,
        "schema_version": 0,
    }


def _change(
    address: str, rtype: str, name: str, provider: str, after: dict[str, Any], unknown: dict[str, Any], module: str = ""
) -> dict[str, Any]:
    """A `resource_changes` entry planning a create."""
    out: dict[str, Any] = {"address": address}
    if module:
        out["module_address"] = module
    out.update(
        {
            "mode": "managed",
            "type": rtype,
            "name": name,
            "provider_name": provider,
            "change": {
                "actions": ["create"],
                "before": None,
                "after": after,
                "after_unknown": unknown,
                "before_sensitive": False,
                "after_sensitive": {},
            },
        }
    )
    return out


def _planned(address: str, rtype: str, name: str, provider: str, after: dict[str, Any]) -> dict[str, Any]:
    """A resource in `planned_values`."""
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "provider_name": provider,
        "schema_version": 0,
        "values": after,
        "sensitive_values": {},
    }


def make_plan(count: int) -> dict[str, Any]:
    modules = 20
    per_module = count // 4 // modules
    changes: list[dict[str, Any]] = []
    root_cfg: list[dict[str, Any]] = []
    calls: dict[str, Any] = {}
    planned_root: list[dict[str, Any]] = []
    child_modules: list[dict[str, Any]] = []
    i = 0
    for m in range(modules):  # a quarter of the plan lives in modules that receive an alias
        mod = f"module.m{m}"
        mod_cfg: list[dict[str, Any]] = []
        mod_planned: list[dict[str, Any]] = []
        for _ in range(per_module):
            rtype, name, after, unknown, exprs, key = _resource(i)
            key = "aws.ireland" if rtype.startswith("aws_") else key
            provider = AWS if rtype.startswith("aws_") else AZ if rtype.startswith("azurerm_") else GCP
            address = f"{mod}.{rtype}.{name}"
            mod_cfg.append(_config(rtype, name, key, exprs))
            changes.append(_change(address, rtype, name, provider, after, unknown, module=mod))
            mod_planned.append(_planned(address, rtype, name, provider, after))
            i += 1
        calls[f"m{m}"] = {"source": "./modules/store", "module": {"resources": mod_cfg}}
        child_modules.append({"address": mod, "resources": mod_planned})
    replications = 0
    while i < count:
        rtype, name, after, unknown, exprs, key = _resource(i)
        provider = AWS if rtype.startswith("aws_") else AZ if rtype.startswith("azurerm_") else GCP
        address = f"{rtype}.{name}"
        root_cfg.append(_config(rtype, name, key, exprs))
        changes.append(_change(address, rtype, name, provider, after, unknown))
        planned_root.append(_planned(address, rtype, name, provider, after))
        i += 1
        if rtype == "aws_s3_bucket" and replications < count // 100 and i + 1 < count:
            # every hundredth resource: a replication configuration to the next bucket
            replications += 1
            rname = f"r{i}"
            rtype = "aws_s3_bucket_replication_configuration"
            root_cfg.append(
                _config(
                    rtype,
                    rname,
                    key,
                    {
                        "bucket": {"references": [f"{address}.id", address]},
                        "rule": [{"destination": [{"bucket": {"references": [f"aws_s3_bucket.b{i - 1}.arn"]}}]}],
                    },
                )
            )
            after = {
                "role": "arn:aws:iam::123456789012:role/r",
                "rule": [{"id": "r", "status": "Enabled", "destination": [{}]}],
            }
            unknown = {"bucket": True, "id": True, "rule": [{"destination": [{"bucket": True}]}]}
            changes.append(_change(f"{rtype}.{rname}", rtype, rname, AWS, after, unknown))
            i += 1
    providers = {
        "aws": {"name": "aws", "full_name": AWS, "expressions": {"region": {"references": ["var.region"]}}},
        "aws.ireland": {
            "name": "aws",
            "full_name": AWS,
            "alias": "ireland",
            "expressions": {"region": _const("eu-west-1")},
        },
        "aws.us": {"name": "aws", "full_name": AWS, "alias": "us", "expressions": {"region": _const("us-east-1")}},
        "azurerm": {"name": "azurerm", "full_name": AZ, "expressions": {"features": [{}]}},
        "google": {
            "name": "google",
            "full_name": GCP,
            "expressions": {"region": _const("europe-west4"), "zone": _const("europe-west4-a")},
        },
    }
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "variables": {"region": {"value": "eu-central-1"}},
        "planned_values": {"root_module": {"resources": planned_root, "child_modules": child_modules}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": providers,
            "root_module": {"resources": root_cfg, "module_calls": calls, "variables": {"region": {}}},
        },
        "timestamp": "2026-11-30T14:02:11Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }


#: The lean plan's types: the common small resources of an AWS estate, most of them unmodelled
#: (judged at their provider's region), some global (IAM), some modelled (buckets, instances).
_LEAN_TYPES = (
    "aws_sqs_queue",
    "aws_sns_topic",
    "aws_s3_bucket",
    "aws_iam_role_policy",
    "aws_security_group_rule",
    "aws_cloudwatch_log_group",
    "aws_lambda_permission",
    "aws_instance",
)


def make_lean_plan(count: int) -> dict[str, Any]:
    """About 0.5 KB per resource: provider-level regions only, few attributes, no modules."""
    changes: list[dict[str, Any]] = []
    cfg: list[dict[str, Any]] = []
    planned: list[dict[str, Any]] = []
    for i in range(count):
        rtype = _LEAN_TYPES[i % len(_LEAN_TYPES)]
        name = f"r{i}"
        key = "aws.us" if i % 5 == 0 else "aws"
        after = {"name": f"a{i}"}
        unknown = {"id": True}
        cfg.append(_config(rtype, name, key, {}))
        changes.append(_change(f"{rtype}.{name}", rtype, name, AWS, after, unknown))
        planned.append(_planned(f"{rtype}.{name}", rtype, name, AWS, after))
    providers = {
        "aws": {"name": "aws", "full_name": AWS, "expressions": {"region": _const("eu-central-1")}},
        "aws.us": {"name": "aws", "full_name": AWS, "alias": "us", "expressions": {"region": _const("us-east-1")}},
    }
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"provider_config": providers, "root_module": {"resources": cfg}},
        "timestamp": "2026-11-30T14:02:11Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }


def _time(cmd: list[str], repeat: int, ok: tuple[int, ...]) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode not in ok:
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-400:]}")
    return times


def _compile_package() -> str:
    """Byte-compile residency_audit, as `pip install` does for a wheel.

    The standard library and the dependencies are timed from their .pyc files;
    an editable install under PYTHONDONTWRITEBYTECODE=1 (set on some CI images)
    would otherwise recompile every module of the gate on every run (~80 ms)
    and the ratio would measure the compiler.
    """
    import compileall
    import importlib.util
    import os

    spec = importlib.util.find_spec("residency_audit")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("residency_audit is not importable: pip install -e . first")
    ok = all(compileall.compile_dir(d, quiet=1) for d in spec.submodule_search_locations)
    flag = (
        " (PYTHONDONTWRITEBYTECODE is set, so it would not be written by the runs)"
        if os.environ.get("PYTHONDONTWRITEBYTECODE")
        else ""
    )
    return (
        f"residency_audit byte-compiled before timing{flag}"
        if ok
        else "byte-compiling failed: timings include compiling"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resources", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--format", default="sarif", choices=("sarif", "json", "junit", "markdown", "table"))
    ap.add_argument(
        "--no-compile", action="store_true", help="time with whatever bytecode there is (see _compile_package)"
    )
    ap.add_argument(
        "--lean",
        action="store_true",
        help="a lean plan (~0.5 KB per resource, provider-level regions only): fixed costs weigh more",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plan_path = Path(tmp) / "plan.json"
        plan = make_lean_plan(args.resources) if args.lean else make_plan(args.resources)
        # `terraform show -json` writes compact JSON; the rich plan keeps the spacing its figures were measured with
        plan_path.write_text(json.dumps(plan, separators=(",", ":")) if args.lean else json.dumps(plan), "utf-8")
        out = Path(tmp) / "out"
        size = plan_path.stat().st_size
        n = len(plan["resource_changes"])
        baseline_cmd = [sys.executable, "-c", f"import json; json.load(open({str(plan_path)!r}))"]
        gate_cmd = [
            sys.executable,
            "-m",
            "residency_audit",
            "gate",
            str(plan_path),
            "--format",
            args.format,
            "--output",
            str(out),
            "--quiet",
        ]
        bytecode = "not compiled first (--no-compile)" if args.no_compile else _compile_package()
        _time(gate_cmd, 1, (0, 1))  # warm the page cache
        base, gate = [], []
        for _ in range(args.repeat):  # interleaved, so machine load hits both alike
            base += _time(baseline_cmd, 1, (0,))
            gate += _time(gate_cmd, 1, (1,))
        b, g = statistics.median(base), statistics.median(gate)
        findings = len(json.loads(out.read_text())["runs"][0]["results"]) if args.format == "sarif" else None
    print(f"plan: {'lean, ' if args.lean else ''}{n} resource changes, {size / 1e6:.1f} MB ({size / n:.0f} bytes each)")
    print(f"bytecode: {bytecode}")
    print(f"json.load baseline: median {b * 1000:.0f} ms (min {min(base) * 1000:.0f}, max {max(base) * 1000:.0f})")
    print(
        f"gate --format {args.format}: median {g * 1000:.0f} ms (min {min(gate) * 1000:.0f}, max {max(gate) * 1000:.0f})"
    )
    if findings is not None:
        print(f"findings in SARIF: {findings}")
    ratio = g / b
    paired = statistics.median(x / y for x, y in zip(gate, base, strict=True))
    print(
        f"ratio of medians gate/json.load: {ratio:.2f}x; median of paired ratios: {paired:.2f}x; "
        f"ratio of minimums: {min(gate) / min(base):.2f}x"
    )
    print(f"target <= 3.00x: {'OK' if ratio <= 3 else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
