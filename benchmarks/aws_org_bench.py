"""Organisation-scale AWS scan: residency-audit against a plain sequential boto3 script and,
with --peers, Cloud Custodian and Prowler, on one moto estate behind a latency front.

    python benchmarks/aws_org_bench.py                  # residency-audit vs the sequential script
    python benchmarks/aws_org_bench.py --peers          # + Custodian and Prowler (own venv, time-boxed)
    python benchmarks/aws_org_bench.py --scale 1,4,16   # how cost grows: 10, 40, 100 member accounts

The estate (seeded straight into moto, without latency): an Organization of 10 member
accounts plus the management account; over 10 regions (5 EU, 5 not) 300 S3 buckets,
300 EC2 instances (each with its root volume), 200 more EBS volumes, 50 DynamoDB tables
and 30 RDS instances, and of the services beyond those 100 SQS queues, 60 SNS topics,
100 log groups, 40 secrets, 40 KMS keys (half multi-Region), 20 Kinesis streams, 10
Redshift clusters, 30 ECR repositories, 10 ElastiCache replication groups, 10 Cognito
user pools, 10 EKS and 20 ECS clusters, spread round-robin over the member accounts and
indexed in the emulator's Resource Explorer (an aggregator index in us-east-1). Every tool then runs as
a subprocess through the loopback front, which adds `--latency` to every request, so
concurrency shows as it would against AWS. Wall time, peak RSS (of the tool's processes,
from wait4) and API calls (the requests the front saw) are measured in the same run, with
CPU milliseconds per call and the latency floor (calls x latency / workers).

moto's ListBuckets omits `BucketRegion`, which current AWS returns; the front adds it (as
AWS would) unless --no-bucket-region. The sequential script uses GetBucketLocation per
bucket, as plain inventory scripts do.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

from residency_emulator.aws import DUMMY_ENV, AwsEmulator, signed_scope
from residency_emulator.front import Request, Response

EU = ["eu-west-1", "eu-central-1", "eu-west-3", "eu-north-1", "eu-south-1"]
NON_EU = ["eu-west-2", "eu-central-2", "us-east-1", "us-west-2", "ap-southeast-2"]
REGIONS = EU + NON_EU
ROLE = "OrganizationAccountAccessRole"
MANAGEMENT = "123456789012"

# ---------------------------------------------------------------- the sequential baseline

SEQUENTIAL = r'''
"""A plain sequential boto3 inventory: every account of the organisation, every region."""
import json, sys
import boto3

regions = sys.argv[1].split(",")
base = boto3.Session(region_name="us-east-1")
org = base.client("organizations")
accounts = [a["Id"] for p in org.get_paginator("list_accounts").paginate() for a in p["Accounts"]]
me = base.client("sts").get_caller_identity()["Account"]
found = {}
for acct in sorted(accounts):
    if acct == me:
        session = base
    else:
        c = base.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole", RoleSessionName="inventory"
        )["Credentials"]
        session = boto3.Session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"], region_name="us-east-1")
    s3 = session.client("s3")
    for b in s3.list_buckets()["Buckets"]:
        loc = s3.get_bucket_location(Bucket=b["Name"]).get("LocationConstraint") or "us-east-1"
        try:
            session.client("s3", region_name=loc).get_bucket_replication(Bucket=b["Name"])
        except Exception:
            pass
        found["s3.bucket"] = found.get("s3.bucket", 0) + 1
    for region in regions:
        ec2 = session.client("ec2", region_name=region)
        for p in ec2.get_paginator("describe_instances").paginate():
            for r in p["Reservations"]:
                found["ec2.instance"] = found.get("ec2.instance", 0) + len(r["Instances"])
        for p in ec2.get_paginator("describe_volumes").paginate():
            found["ec2.volume"] = found.get("ec2.volume", 0) + len(p["Volumes"])
        for p in ec2.get_paginator("describe_snapshots").paginate(OwnerIds=["self"]):
            found["ec2.snapshot"] = found.get("ec2.snapshot", 0) + len(p["Snapshots"])
        rds = session.client("rds", region_name=region)
        for p in rds.get_paginator("describe_db_instances").paginate():
            found["rds.instance"] = found.get("rds.instance", 0) + len(p["DBInstances"])
        for p in rds.get_paginator("describe_db_clusters").paginate():
            found["rds.cluster"] = found.get("rds.cluster", 0) + len(p["DBClusters"])
        ddb = session.client("dynamodb", region_name=region)
        for p in ddb.get_paginator("list_tables").paginate():
            for name in p["TableNames"]:
                ddb.describe_table(TableName=name)
                found["dynamodb.table"] = found.get("dynamodb.table", 0) + 1
        # the services beyond the first seven: every one listed in every region, copies read per item
        for key, service, op, item_key in (
            ("sqs.queue", "sqs", "list_queues", "QueueUrls"),
            ("sns.topic", "sns", "list_topics", "Topics"),
            ("kinesis.stream", "kinesis", "list_streams", "StreamNames"),
            ("redshift.cluster", "redshift", "describe_clusters", "Clusters"),
            ("elasticache.replicationgroup", "elasticache", "describe_replication_groups", "ReplicationGroups"),
            ("ecr.repository", "ecr", "describe_repositories", "repositories"),
            ("eks.cluster", "eks", "list_clusters", "clusters"),
            ("ecs.cluster", "ecs", "list_clusters", "clusterArns"),
        ):
            client = session.client(service, region_name=region)
            found[key] = found.get(key, 0) + len(getattr(client, op)().get(item_key, []))
        sm = session.client("secretsmanager", region_name=region)
        for s in sm.list_secrets()["SecretList"]:
            sm.describe_secret(SecretId=s["ARN"])
            found["secretsmanager.secret"] = found.get("secretsmanager.secret", 0) + 1
        kms = session.client("kms", region_name=region)
        for k in kms.list_keys()["Keys"]:
            kms.describe_key(KeyId=k["KeyId"])
            found["kms.key"] = found.get("kms.key", 0) + 1
        logs = session.client("logs", region_name=region)
        for g in logs.describe_log_groups()["logGroups"]:
            logs.describe_subscription_filters(logGroupName=g["logGroupName"])
            found["logs.loggroup"] = found.get("logs.loggroup", 0) + 1
        found["cognito.userpool"] = found.get("cognito.userpool", 0) + len(
            session.client("cognito-idp", region_name=region).list_user_pools(MaxResults=60)["UserPools"]
        )
print(json.dumps(found))
'''

# ---------------------------------------------------------------- seeding


def seed(emu: AwsEmulator, members: int, scale: float) -> dict[str, Any]:
    """Straight into moto (no front, no latency): the estate every tool then reads."""
    import boto3

    made: dict[tuple[int, str, str], Any] = {}

    def client(session: boto3.Session, service: str, region: str) -> Any:
        # one client per (session, service, region): creating one per resource made seeding slow
        key = (id(session), service, region)
        if key not in made:
            made[key] = session.client(service, region_name=region, endpoint_url=emu.moto_url)
        return made[key]

    mgmt = boto3.Session(**_keys(DUMMY_ENV), region_name="us-east-1")
    org = client(mgmt, "organizations", "us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ous = [org.create_organizational_unit(ParentId=root, Name=n)["OrganizationalUnit"]["Id"] for n in ("prod", "dev")]
    sts = client(mgmt, "sts", "us-east-1")
    sessions = []
    ids: list[str] = []  # the member accounts, in the order of `sessions`
    for i in range(members):
        acct = org.create_account(AccountName=f"member-{i:02d}", Email=f"m{i}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=ous[i % 2])
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
        sessions.append(boto3.Session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))
        ids.append(acct)
    counts = {k: round(v * scale) for k, v in {"s3": 300, "ec2": 300, "ebs": 200, "ddb": 50, "rds": 30}.items()}
    more = {"sqs": 100, "sns": 60, "logs": 100, "secrets": 40, "kms": 40, "kinesis": 20, "redshift": 10, "ecr": 30}
    more.update({"elasticache": 10, "cognito": 10, "eks": 10, "ecs": 20})
    counts.update({k: round(v * scale) for k, v in more.items()})
    bucket_regions: dict[str, str] = {}
    slots = [(s, r) for s in range(members) for r in REGIONS]  # (account, region), round-robin

    def spread(n: int) -> dict[tuple[int, str], int]:
        out: dict[tuple[int, str], int] = {}
        for k in range(n):
            out[slots[k % len(slots)]] = out.get(slots[k % len(slots)], 0) + 1
        return out

    index = emu.fakes.index  # what Resource Explorer indexes: every resource made, with its account
    for k in range(counts["s3"]):
        s, region = slots[k % len(slots)]
        name = f"bench-{k:04d}-{region}"
        cfg = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        client(sessions[s], "s3", region).create_bucket(Bucket=name, **cfg)
        bucket_regions[name] = region
        index(f"arn:aws:s3:::{name}", account=ids[s])
    for (s, region), n in spread(counts["ec2"]).items():
        client(sessions[s], "ec2", region).run_instances(ImageId="ami-12c6146b", MinCount=n, MaxCount=n)
    for (s, region), n in spread(counts["ebs"]).items():
        ec2 = client(sessions[s], "ec2", region)
        for _ in range(n):
            ec2.create_volume(Size=8, AvailabilityZone=f"{region}a")
    for s, region in slots:  # instances, their root volumes and the volumes: read back once per slot
        ec2 = client(sessions[s], "ec2", region)
        for res in ec2.describe_instances()["Reservations"]:
            index(*(_arn(region, ids[s], f"instance/{i['InstanceId']}") for i in res["Instances"]), account=ids[s])
        index(
            *(_arn(region, ids[s], f"volume/{v['VolumeId']}") for v in ec2.describe_volumes()["Volumes"]),
            account=ids[s],
        )
    for k in range(counts["ddb"]):
        s, region = slots[(k * 7) % len(slots)]
        index(f"arn:aws:dynamodb:{region}:{ids[s]}:table/table-{k:03d}", account=ids[s])
        client(sessions[s], "dynamodb", region).create_table(
            TableName=f"table-{k:03d}",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    for k in range(counts["rds"]):
        s, region = slots[(k * 3) % len(slots)]
        client(sessions[s], "rds", region).create_db_instance(
            DBInstanceIdentifier=f"db-{k:03d}",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="not-a-secret-1",
        )
        index(f"arn:aws:rds:{region}:{ids[s]}:db:db-{k:03d}", account=ids[s])
    seed_more_services(emu, counts, [(sessions[s], ids[s], r) for s, r in slots], client)
    enabled = [r["RegionName"] for r in client(mgmt, "ec2", "us-east-1").describe_regions()["Regions"]]
    emu.fakes.explorer_indexes = {r: "LOCAL" for r in enabled} | {"us-east-1": "AGGREGATOR"}
    return {"counts": counts, "bucket_regions": bucket_regions, "accounts": members + 1}


def _arn(region: str, account: str, resource: str, service: str = "ec2") -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def seed_more_services(
    emu: AwsEmulator, counts: dict[str, int], slots: list[tuple[Any, str, str]], client: Any
) -> None:
    """The services beyond the first seven, round-robin over (account, region), each indexed."""
    index = emu.fakes.index
    for k in range(counts["sqs"]):
        session, acct, region = slots[(k * 3) % len(slots)]
        client(session, "sqs", region).create_queue(QueueName=f"queue-{k:03d}")
        index(_arn(region, acct, f"queue-{k:03d}", "sqs"), account=acct)
    for k in range(counts["sns"]):
        session, acct, region = slots[(k * 5) % len(slots)]
        index(client(session, "sns", region).create_topic(Name=f"topic-{k:03d}")["TopicArn"], account=acct)
    for k in range(counts["logs"]):
        session, acct, region = slots[(k * 7) % len(slots)]
        client(session, "logs", region).create_log_group(logGroupName=f"group-{k:03d}")
        index(_arn(region, acct, f"log-group:group-{k:03d}", "logs"), account=acct)
    for k in range(counts["secrets"]):
        session, acct, region = slots[(k * 11) % len(slots)]
        arn = client(session, "secretsmanager", region).create_secret(Name=f"secret-{k:03d}", SecretString="x")["ARN"]
        index(arn, account=acct)
    for k in range(counts["kms"]):
        session, acct, region = slots[(k * 13) % len(slots)]
        meta = client(session, "kms", region).create_key(MultiRegion=k % 2 == 0)["KeyMetadata"]
        index(meta["Arn"], account=acct)
    for k in range(counts["kinesis"]):
        session, acct, region = slots[(k * 17) % len(slots)]
        client(session, "kinesis", region).create_stream(StreamName=f"stream-{k:03d}", ShardCount=1)
        index(_arn(region, acct, f"stream/stream-{k:03d}", "kinesis"), account=acct)
    for k in range(counts["redshift"]):
        session, acct, region = slots[(k * 19) % len(slots)]
        client(session, "redshift", region).create_cluster(
            ClusterIdentifier=f"dw-{k:03d}",
            NodeType="dc2.large",
            MasterUsername="admin",
            MasterUserPassword="NotASecret1",
            ClusterType="single-node",
        )
        index(_arn(region, acct, f"cluster:dw-{k:03d}", "redshift"), account=acct)
    for k in range(counts["ecr"]):
        session, acct, region = slots[(k * 23) % len(slots)]
        repo = client(session, "ecr", region).create_repository(repositoryName=f"repo-{k:03d}")["repository"]
        index(repo["repositoryArn"], account=acct)
    for k in range(counts["elasticache"]):
        session, acct, region = slots[(k * 29) % len(slots)]
        client(session, "elasticache", region).create_replication_group(
            ReplicationGroupId=f"cache-{k:03d}",
            ReplicationGroupDescription="bench",
            Engine="redis",
            CacheNodeType="cache.t3.micro",
            NumCacheClusters=1,
        )
        index(_arn(region, acct, f"replicationgroup:cache-{k:03d}", "elasticache"), account=acct)
    for k in range(counts["cognito"]):
        session, acct, region = slots[(k * 31) % len(slots)]
        pool = client(session, "cognito-idp", region).create_user_pool(PoolName=f"pool-{k:03d}")["UserPool"]["Id"]
        index(_arn(region, acct, f"userpool/{pool}", "cognito-idp"), account=acct)
    for k in range(counts["eks"]):
        session, acct, region = slots[(k * 37) % len(slots)]
        client(session, "eks", region).create_cluster(
            name=f"k8s-{k:03d}",
            roleArn=f"arn:aws:iam::{acct}:role/{ROLE}",
            resourcesVpcConfig={"subnetIds": ["subnet-0123456789"]},
        )
        index(_arn(region, acct, f"cluster/k8s-{k:03d}", "eks"), account=acct)
    for k in range(counts["ecs"]):
        session, acct, region = slots[(k * 41) % len(slots)]
        arn = client(session, "ecs", region).create_cluster(clusterName=f"svc-{k:03d}")["cluster"]["clusterArn"]
        index(arn, account=acct)


def _keys(env: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": env["AWS_SESSION_TOKEN"],
    }


def bucket_region_hook(regions: dict[str, str]) -> Any:
    """ListBuckets as current AWS answers it: each bucket with its BucketRegion."""
    pattern = re.compile(rb"<Name>([^<]+)</Name>")

    def hook(req: Request, resp: Response) -> Response:
        if req.method != "GET" or req.path.split("?")[0] != "/" or signed_scope(req)[1] != "s3" or resp.status != 200:
            return resp
        if b"<ListAllMyBucketsResult" not in resp.body:
            return resp

        def add(m: re.Match[bytes]) -> bytes:
            region = regions.get(m.group(1).decode())
            return m.group(0) + (f"<BucketRegion>{region}</BucketRegion>".encode() if region else b"")

        return Response(resp.status, resp.headers, pattern.sub(add, resp.body))

    return hook


# ---------------------------------------------------------------- running and measuring


@dataclass
class Run:
    tool: str
    m: Measured
    resources: dict[str, int]
    note: str = ""
    ok: bool = True
    ec2_s3_calls: int = 0

    @property
    def seconds(self) -> float:
        return self.m.seconds

    @property
    def calls(self) -> int:
        return self.m.calls

    @property
    def total(self) -> int:
        return sum(self.resources.values())


#: Peak RSS of a child forked from this process would count this process's own pages
#: (moto and the estate) until exec; a small fresh launcher posix_spawns the tool instead
#: and reports the tool's own wait4 figures.
LAUNCHER = (
    "import json, os, sys\n"
    "pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "code = os.waitstatus_to_exitcode(status)\n"
    "cpu = usage.ru_utime + usage.ru_stime\n"
    "open(sys.argv[1], 'w').write(json.dumps([usage.ru_maxrss, code, cpu]))\n"
    "sys.exit(code)\n"
)


def spawn(
    cmd: list[str], env: dict[str, str], timeout: float, tmp: Path, cwd: str | None = None
) -> tuple[bytes, int, int, float]:
    """Runs one command; returns (stdout, exit code, peak RSS in KiB, CPU seconds)."""
    stats = tmp / "rusage.json"
    stats.unlink(missing_ok=True)
    err = tmp / "stderr.txt"  # kept for `failed`: a run that wrote nothing says why
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(stats), *cmd],
        env=env,
        stdout=subprocess.PIPE,
        stderr=err.open("wb"),
        start_new_session=True,
        cwd=cwd,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the tool it spawned
        proc.communicate()
        raise
    rss, code, cpu = json.loads(stats.read_text())
    return out, code, rss, cpu


@dataclass
class Measured:
    seconds: float  # wall time, the commands one after the other
    peak_rss_mb: float  # the largest of their peak RSS
    calls: int  # requests the front saw
    cpu: float  # user + system seconds of the tool's processes
    outs: list[tuple[bytes, int]]  # (stdout, exit code) per command
    #: CPU seconds of this process meanwhile: moto and the front answering (one GIL, so at most one core)
    emulator_cpu: float = 0.0


def measure(
    cmds: list[tuple[list[str], dict[str, str]]], emu: AwsEmulator, timeout: float, tmp: Path, cwd: str | None = None
) -> Measured:
    emu.front.clear_log()
    peak, cpu_total = 0, 0.0
    outs = []
    emulator_start = time.process_time()
    start = time.perf_counter()
    for cmd, env in cmds:
        out, code, rss, cpu = spawn(cmd, env, timeout, tmp, cwd)
        peak = max(peak, rss)
        cpu_total += cpu
        outs.append((out, code))
    wall = time.perf_counter() - start
    emulator = time.process_time() - emulator_start
    return Measured(wall, peak / 1024, len(emu.front.log), cpu_total, outs, emulator)


def run_ours(
    env: dict[str, str], emu: AwsEmulator, tmp: Path, workers: int, inventory: str = "auto", code: str = ""
) -> Run:
    out = tmp / "ra.json"
    cmd = [sys.executable, "-m", "residency_audit", "scan", "aws", "--organization", "--regions", ",".join(REGIONS)]
    cmd += ["--inventory", inventory, "--workers", str(workers), "-f", "json", "-o", str(out), "-q", "--exit-zero"]
    if code:  # another checkout of the package (e.g. main, for a before/after in one run); `-m`
        env = {**env, "PYTHONPATH": code}  # puts the working directory first: run it from there
    m = measure([(cmd, env)], emu, 1800, tmp, cwd=code or None)
    if not out.exists():
        tail = (tmp / "stderr.txt").read_text(errors="replace").strip().splitlines()[-5:]
        raise SystemExit(f"residency-audit exited {m.outs[0][1]} without a report: " + " | ".join(tail))
    report = json.loads(out.read_text())
    ec2_s3 = sum(n for op, n in report["scan"]["api_calls"].items() if op.split(":")[0] in ("ec2", "s3"))
    codes = sorted({f"{g['service']}:{g['code']}" for g in report["scan"]["gaps"]})
    paths = sorted(set(report["scan"]["context"].get("inventory", {}).values()))
    note = f"inventory {'/'.join(paths)}; {len(report['scan']['gaps'])} gaps {codes}; "
    note += f"its own count of calls: {report['scan']['api_calls_total']}"
    name = "residency-audit" if inventory == "auto" else f"residency-audit --inventory {inventory}"
    name += f" ({Path(code).name})" if code else ""
    return Run(name, m, report["scan"]["resources_by_kind"], note, ec2_s3_calls=ec2_s3)


def run_sequential(env: dict[str, str], emu: AwsEmulator, tmp: Path) -> Run:
    script = tmp / "sequential_inventory.py"
    script.write_text(SEQUENTIAL)
    m = measure([([sys.executable, str(script), ",".join(REGIONS)], env)], emu, 3600, tmp)
    found = json.loads(m.outs[0][0].decode().strip().splitlines()[-1])
    return Run("sequential boto3 script", m, {k: v for k, v in found.items() if v})


# ---------------------------------------------------------------- peers


def install_peers(venv_root: Path, timeout: float, wanted: list[str]) -> dict[str, str]:
    """Custodian and Prowler, each in its own venv (their pins clash); returns tool -> why not, if not."""
    problems: dict[str, str] = {}
    for tool, package in (("custodian", "c7n"), ("prowler", "prowler")):
        if tool not in wanted:
            continue
        venv = venv_root / f"venv-{tool}"
        exe = venv / "bin" / tool
        if exe.exists():
            continue
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "-q", package],
                check=True,
                timeout=timeout,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            problems[tool] = f"did not install within {timeout:.0f} s ({type(exc).__name__})"
    return problems


def member_credentials(emu: AwsEmulator) -> dict[str, dict[str, str]]:
    """Assumed-role keys per account, for peers that scan one account per run (not timed)."""
    import boto3

    base = boto3.Session(**_keys(DUMMY_ENV), region_name="us-east-1")
    org = base.client("organizations", endpoint_url=emu.moto_url)
    sts = base.client("sts", endpoint_url=emu.moto_url)
    out = {}
    for page in org.get_paginator("list_accounts").paginate():
        for a in page["Accounts"]:
            if a["Id"] == MANAGEMENT:
                out[a["Id"]] = {
                    k: DUMMY_ENV[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
                }
                continue
            c = sts.assume_role(RoleArn=f"arn:aws:iam::{a['Id']}:role/{ROLE}", RoleSessionName="peer")["Credentials"]
            out[a["Id"]] = {
                "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                "AWS_SESSION_TOKEN": c["SessionToken"],
            }
    return out


CUSTODIAN_POLICY = """policies:
  - name: ec2-instances
    resource: aws.ec2
  - name: ebs-volumes
    resource: aws.ebs
  - name: s3-buckets
    resource: aws.s3
    # S3 is global: list it from one region only (in Custodian's favour)
    conditions:
      - type: value
        key: region
        value: us-east-1
"""


def run_custodian(
    venv_root: Path, env: dict[str, str], emu: AwsEmulator, tmp: Path, creds: dict[str, dict[str, str]]
) -> Run:
    exe = venv_root / "venv-custodian" / "bin" / "custodian"
    policy = tmp / "custodian.yml"
    policy.write_text(CUSTODIAN_POLICY)
    cmds, outdirs = [], []
    for acct in sorted(creds):
        outdir = tmp / f"c7n-{acct}"
        outdirs.append(outdir)
        cmd = [str(exe), "run", "--cache-period", "0", "-s", str(outdir)]
        for r in REGIONS:
            cmd += ["--region", r]
        cmds.append(([*cmd, str(policy)], {**env, **creds[acct]}))
    m = measure(cmds, emu, 1800, tmp)
    kinds = {"ec2-instances": ("ec2.instance", "InstanceId"), "ebs-volumes": ("ec2.volume", "VolumeId")}
    kinds["s3-buckets"] = ("s3.bucket", "Name")
    seen: dict[str, set[str]] = {}
    for outdir in outdirs:
        for res in outdir.rglob("resources.json"):
            kind, key = kinds[res.parent.name]
            seen.setdefault(kind, set()).update(r[key] for r in json.loads(res.read_text() or "[]"))
    found = {k: len(v) for k, v in seen.items()}
    note = "" if found else "ran but listed nothing"
    return Run("Cloud Custodian (c7n)", m, found, note, bool(found))


def run_prowler(
    venv_root: Path, env: dict[str, str], emu: AwsEmulator, tmp: Path, creds: dict[str, dict[str, str]]
) -> Run:
    exe = venv_root / "venv-prowler" / "bin" / "prowler"
    cmds = []
    for acct in sorted(creds):
        outdir = tmp / f"prowler-{acct}"
        cmd = [str(exe), "aws", "--service", "ec2", "s3", "--region", *REGIONS, "--output-directory", str(outdir)]
        cmd += ["--output-formats", "json-ocsf", "--no-banner", "--ignore-exit-code-3"]
        cmds.append((cmd, {**env, **creds[acct]}))
    m = measure(cmds, emu, 600, tmp)
    codes = [code for _, code in m.outs]
    seen: dict[str, set[str]] = {}
    for f in tmp.glob("prowler-*/*.ocsf.json"):
        for finding in json.loads(f.read_text() or "[]"):
            for r in finding.get("resources", []):
                uid = r.get("uid", "")
                kind = (
                    "s3.bucket"
                    if ":s3:::" in uid
                    else "ec2.instance"
                    if ":instance/" in uid
                    else "ec2.volume"
                    if ":volume/" in uid
                    else ""
                )
                if kind:
                    seen.setdefault(kind, set()).add(uid)
    found = {k: len(v) for k, v in seen.items()}
    note = f"exit codes {sorted(set(codes))}; resources counted from findings (Prowler lists through checks)"
    return Run("Prowler", m, found, note, any(c in (0, 3) for c in codes))


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency", type=float, default=0.05, help="seconds added to every request (default 0.05)")
    ap.add_argument(
        "--members",
        help="member accounts per --scale point, comma-separated (default 10 at 1x, 40 at 4x, 100 at 16x: 10 x the "
        "point, at most 100)",
    )
    ap.add_argument(
        "--scale",
        default="1",
        help="resource-count multipliers, comma-separated: with more than one point (e.g. 1,4,16) only "
        "residency-audit runs, on a fresh estate per point, and a table shows how cost grows (default 1)",
    )
    ap.add_argument("--workers", type=int, default=32, help="residency-audit --workers (default 32)")
    ap.add_argument(
        "--peers",
        nargs="?",
        const="custodian,prowler",
        default="",
        help="also install and run the peers (default when given: custodian,prowler)",
    )
    ap.add_argument("--peers-dir", help="keep the peers' venvs here (default: a temporary directory)")
    ap.add_argument("--install-timeout", type=float, default=600, help="seconds per peer install (default 600)")
    ap.add_argument("--no-bucket-region", action="store_true", help="ListBuckets without BucketRegion (as moto)")
    ap.add_argument("--skip-sequential", action="store_true")
    ap.add_argument(
        "--compare",
        metavar="CHECKOUT",
        help="also run residency-audit from this checkout (PYTHONPATH) on the same estate: a before/after in one run",
    )
    ap.add_argument("--services-path", action="store_true", help="also time residency-audit with --inventory services")
    args = ap.parse_args()
    try:
        points = [float(p) for p in args.scale.split(",")]
        members = (
            [int(m) for m in args.members.split(",")] if args.members else [min(100, round(10 * p)) for p in points]
        )
    except ValueError:
        ap.error("--scale and --members take comma-separated numbers")
    if len(members) == 1:
        members *= len(points)
    if len(members) != len(points):
        ap.error("--members needs one count per --scale point")
    if len(points) > 1:
        return scale_table(args, points, members)
    args.members, args.scale = members[0], points[0]

    tmp = Path(tempfile.mkdtemp(prefix="ra-bench-"))
    emu = AwsEmulator()
    # Prowler asks for APIs moto lacks; each is a werkzeug traceback: keep the output readable.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    try:
        t0 = time.perf_counter()
        estate = seed(emu, args.members, args.scale)
        print(
            f"seeded {estate['accounts']} accounts, {estate['counts']} in {time.perf_counter() - t0:.1f} s", flush=True
        )
        if not args.no_bucket_region:
            emu.front.response_hooks.append(bucket_region_hook(estate["bucket_regions"]))
        emu.front.latency = args.latency
        env = bench_env(emu)
        runs = [run_ours(env, emu, tmp, args.workers)]
        print(f"residency-audit: {runs[0].seconds:.1f} s", flush=True)
        if args.compare:
            runs.append(run_ours(env, emu, tmp, args.workers, code=str(Path(args.compare).resolve())))
            print(f"{runs[-1].tool}: {runs[-1].seconds:.1f} s", flush=True)
        if args.services_path:
            runs.append(run_ours(env, emu, tmp, args.workers, inventory="services"))
            print(f"residency-audit --inventory services: {runs[-1].seconds:.1f} s", flush=True)
        if not args.skip_sequential:
            runs.append(run_sequential(env, emu, tmp))
            print(f"sequential: {runs[-1].seconds:.1f} s", flush=True)
        skipped: dict[str, str] = {}
        if args.peers:
            root = Path(args.peers_dir) if args.peers_dir else tmp / "peers"
            root.mkdir(parents=True, exist_ok=True)
            wanted = [p.strip() for p in args.peers.split(",") if p.strip()]
            skipped = install_peers(root, args.install_timeout, wanted)
            creds = member_credentials(emu)
            for tool, fn in (("custodian", run_custodian), ("prowler", run_prowler)):
                if tool in skipped or tool not in wanted:
                    continue
                try:
                    runs.append(fn(root, env, emu, tmp, creds))
                    print(f"{tool}: {runs[-1].seconds:.1f} s", flush=True)
                except Exception as exc:  # noqa: BLE001 - a peer that cannot run is reported, not fatal
                    skipped[tool] = f"could not run: {type(exc).__name__}: {exc}"
        report(runs, skipped, args, estate)
    finally:
        emu.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def bench_env(emu: AwsEmulator) -> dict[str, str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **emu.env()}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def scale_table(args: argparse.Namespace, points: list[float], members: list[int]) -> int:
    """residency-audit alone at each point, each on a fresh estate: how wall, CPU, memory and calls
    grow with resources and accounts. The latency floor is calls x latency / workers: no scan
    with that many calls and workers can finish sooner."""
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    rows = []
    emu = AwsEmulator()  # moto's state is per process: one emulator, reset between points
    try:
        for point, count in zip(points, members, strict=True):
            tmp = Path(tempfile.mkdtemp(prefix="ra-bench-"))
            emu.reset()
            try:
                t0 = time.perf_counter()
                estate = seed(emu, count, point)
                print(
                    f"{point:g}x: seeded {estate['accounts']} accounts in {time.perf_counter() - t0:.1f} s", flush=True
                )
                hooks = [] if args.no_bucket_region else [bucket_region_hook(estate["bucket_regions"])]
                emu.front.response_hooks.extend(hooks)
                emu.front.latency = args.latency
                run = run_ours(bench_env(emu), emu, tmp, args.workers)
                print(f"{point:g}x: residency-audit {run.seconds:.1f} s", flush=True)
                rows.append((point, estate["accounts"], run))
                for hook in hooks:
                    emu.front.response_hooks.remove(hook)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        emu.stop()
    print(f"\n{len(REGIONS)} regions, latency {args.latency * 1000:.0f} ms/request, --workers {args.workers}\n")
    head = f"{'point':>5} {'accounts':>8} {'resources':>9} {'wall s':>7} {'CPU s':>6} {'RSS MB':>7} {'calls':>6}"
    print(head + f" {'calls/res':>9} {'CPU ms/call':>11} {'floor s':>7} {'wall/floor':>10} {'emulator CPU s':>14}")
    for point, accounts, r in rows:
        floor = r.calls * args.latency / args.workers
        line = f"{point:4g}x {accounts:8d} {r.total:9d} {r.seconds:7.1f} {r.m.cpu:6.1f} {r.m.peak_rss_mb:7.0f} {r.calls:6d}"
        print(
            line + f" {r.calls / max(r.total, 1):9.2f} {r.m.cpu * 1000 / max(r.calls, 1):11.1f} {floor:7.1f}"
            f" {r.seconds / floor if floor else float('nan'):9.1f}x {r.m.emulator_cpu:14.1f}"
        )
    return 0


def report(runs: list[Run], skipped: dict[str, str], args: argparse.Namespace, estate: dict[str, Any]) -> None:
    ours = runs[0]
    print(
        f"\n{estate['accounts']} accounts x {len(REGIONS)} regions, latency {args.latency * 1000:.0f} ms/request, "
        f"BucketRegion in ListBuckets: {not args.no_bucket_region}\n"
    )
    head = f"{'tool':32} {'wall s':>8} {'vs ours':>8} {'CPU s':>7} {'peak RSS MB':>12} {'API calls':>10}"
    print(head + f" {'resources':>10} {'calls/res':>10} {'CPU ms/call':>11}")
    for r in runs:
        speed = r.seconds / ours.seconds if ours.seconds else 0
        per = r.calls / r.total if r.total else float("nan")
        line = f"{r.tool:32} {r.seconds:8.1f} {speed:7.1f}x {r.m.cpu:7.1f} {r.m.peak_rss_mb:12.0f} {r.calls:10d}"
        print(line + f" {r.total:10d} {per:10.2f} {r.m.cpu * 1000 / max(r.calls, 1):11.1f}")
    floor = ours.calls * args.latency / args.workers
    print(
        f"\nlatency floor of residency-audit: {ours.calls} calls x {args.latency * 1000:.0f} ms / {args.workers} workers"
    )
    print(f"= {floor:.1f} s; its wall time is {ours.seconds / floor if floor else float('nan'):.1f}x the floor")
    print(
        f"the emulator (moto and the front, one Python process) spent {ours.m.emulator_cpu:.1f} CPU s answering it:"
        " no run can end before the emulator has answered"
    )
    print()
    for r in runs:
        print(f"  {r.tool}: {dict(sorted(r.resources.items()))} {r.note}")
    if any(r.tool in ("Cloud Custodian (c7n)", "Prowler") for r in runs):
        ec2_s3 = ours.ec2_s3_calls
        n = sum(
            v for k, v in ours.resources.items() if k in ("ec2.instance", "ec2.volume", "s3.bucket", "ec2.snapshot")
        )
        print(
            f"  residency-audit EC2+S3 only: {ec2_s3} calls for {n} resources = {ec2_s3 / max(n, 1):.2f} calls/resource"
        )
    for tool, why in skipped.items():
        print(f"  {tool}: not measured: {why}")


if __name__ == "__main__":
    raise SystemExit(main())
