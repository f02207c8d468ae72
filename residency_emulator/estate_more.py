"""The sample AWS estate, part two: a trap per service family beyond the first seven, and the
inventory indexes (Resource Explorer, Config) that list every resource the estate holds.

One `seed_<name>` per `Kind.seed` of `kinds.MORE_KINDS`. Each writes into moto (or, for what
moto lacks, into the fakes behind the front) and indexes what it made, as Resource Explorer
would. Loopback only: `estate._client` refuses any other endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .aws import AwsEmulator
from .aws_fakes import ACCOUNT

Client = Callable[[str, str], Any]


def _arn(region: str, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def seed_rds(emu: AwsEmulator, c: Client) -> None:
    """Global databases: Aurora Frankfurt -> Virginia, DocumentDB Paris -> London, Neptune
    Ireland -> Sydney (every secondary is a full copy)."""
    for engine, gid, (w_region, writer), (s_region, secondary) in (
        ("aurora-postgresql", "ledger", ("eu-central-1", "ledger-frankfurt"), ("us-east-1", "ledger-virginia")),
        ("docdb", "catalog", ("eu-west-3", "catalog-paris"), ("eu-west-2", "catalog-london")),
        ("neptune", "graph", ("eu-west-1", "graph-ireland"), ("ap-southeast-2", "graph-sydney")),
    ):
        moto_engine = "aurora-postgresql" if engine == "docdb" else engine  # moto refuses docdb
        if engine == "docdb":
            emu.fakes.docdb.update({gid, writer, secondary})
        c("rds", w_region).create_global_cluster(GlobalClusterIdentifier=gid, Engine=moto_engine)
        extra = {"MasterUsername": "admin", "MasterUserPassword": "not-a-secret-3"} if engine != "neptune" else {}
        for region, ident in ((w_region, writer), (s_region, secondary)):
            c("rds", region).create_db_cluster(
                DBClusterIdentifier=ident, Engine=moto_engine, GlobalClusterIdentifier=gid, **extra
            )
            extra = {}
            emu.fakes.index(_arn(region, "rds", f"cluster:{ident}"))
        emu.fakes.index(f"arn:aws:rds::{ACCOUNT}:global-cluster:{gid}")


def seed_elasticache(emu: AwsEmulator, c: Client) -> None:
    """A global datastore: primary in Frankfurt, secondary in Ohio."""
    for region, group in (("eu-central-1", "cache-frankfurt"), ("us-east-2", "cache-ohio")):
        c("elasticache", region).create_replication_group(
            ReplicationGroupId=group,
            ReplicationGroupDescription="sessions cache",
            Engine="redis",
            CacheNodeType="cache.t3.micro",
            NumCacheClusters=1,
        )
        emu.fakes.index(_arn(region, "elasticache", f"replicationgroup:{group}"))
    emu.fakes.elasticache_globals["sessions-global"] = [
        ("cache-frankfurt", "eu-central-1", "PRIMARY"),
        ("cache-ohio", "us-east-2", "SECONDARY"),
    ]
    emu.fakes.index(f"arn:aws:elasticache::{ACCOUNT}:globalreplicationgroup:sessions-global")


def seed_memorydb(emu: AwsEmulator, c: Client) -> None:
    arn = c("memorydb", "us-east-1").create_cluster(
        ClusterName="ratelimits-virginia", NodeType="db.t4g.small", ACLName="open-access"
    )["Cluster"]["ARN"]
    emu.fakes.index(arn)


def seed_redshift(emu: AwsEmulator, c: Client) -> None:
    """A warehouse in Virginia, and a Frankfurt one copying its snapshots to Oregon."""
    for region, ident in (("us-east-1", "warehouse-virginia"), ("eu-central-1", "warehouse-frankfurt")):
        c("redshift", region).create_cluster(
            ClusterIdentifier=ident,
            NodeType="dc2.large",
            MasterUsername="admin",
            MasterUserPassword="NotASecret4",
            ClusterType="single-node",
        )
        emu.fakes.index(_arn(region, "redshift", f"cluster:{ident}"))
    c("redshift", "eu-central-1").enable_snapshot_copy(
        ClusterIdentifier="warehouse-frankfurt", DestinationRegion="us-west-2"
    )


def seed_fsx(emu: AwsEmulator, c: Client) -> None:
    """A clean Irish file system with its backup, and a scratch file system in Virginia with one."""
    for region, name in (("eu-west-1", "lustre-ireland"), ("us-east-1", "scratch-virginia")):
        fsx = c("fsx", region)
        fs = fsx.create_file_system(
            FileSystemType="LUSTRE",
            StorageCapacity=1200,
            SubnetIds=["subnet-0123456789"],
            Tags=[{"Key": "Name", "Value": name}],
        )["FileSystem"]
        backup = fsx.create_backup(FileSystemId=fs["FileSystemId"], Tags=[{"Key": "Name", "Value": f"{name}-backup"}])
        emu.fakes.index(fs["ResourceARN"], backup["Backup"]["ResourceARN"])


def seed_ecr(emu: AwsEmulator, c: Client) -> None:
    """An Irish registry replicating every repository to Virginia, and a pull-through cache of
    Docker Hub in Virginia (moto lacks the rules: the fake serves them; no inventory lists them)."""
    ecr = c("ecr", "eu-west-1")
    emu.fakes.index(ecr.create_repository(repositoryName="shop-api")["repository"]["repositoryArn"])
    ecr.put_replication_configuration(
        replicationConfiguration={"rules": [{"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}]}]}
    )
    emu.fakes.pull_through_rules["us-east-1"] = [("docker-hub", "registry-1.docker.io")]


def seed_mrap(emu: AwsEmulator, c: Client) -> None:
    """A Multi-Region Access Point over the Frankfurt media bucket and the Virginia default-region
    bucket (both made by the first part of the estate): requests may be served from either."""
    members = [("media-frankfurt", "eu-central-1", ACCOUNT), ("legacy-default-region", "us-east-1", ACCOUNT)]
    emu.fakes.index(emu.fakes.add_multi_region_access_point("media-global", members))


def seed_secretsmanager(emu: AwsEmulator, c: Client) -> None:
    """A Frankfurt secret replicated to Oregon (its replica is listed there too)."""
    made = c("secretsmanager", "eu-central-1").create_secret(
        Name="db-credentials", SecretString="not-a-secret-5", AddReplicaRegions=[{"Region": "us-west-2"}]
    )
    emu.fakes.index(made["ARN"], made["ARN"].replace(":eu-central-1:", ":us-west-2:"))


def seed_kms(emu: AwsEmulator, c: Client) -> None:
    """A multi-Region key: primary in Ireland, replica in Virginia."""
    key = c("kms", "eu-west-1").create_key(Description="payments-key", MultiRegion=True)["KeyMetadata"]
    replica = c("kms", "eu-west-1").replicate_key(KeyId=key["KeyId"], ReplicaRegion="us-east-1")
    emu.fakes.index(key["Arn"], replica["ReplicaKeyMetadata"]["Arn"])


def seed_logs(emu: AwsEmulator, c: Client) -> None:
    """A log group in London, and a Frankfurt one streaming to a Kinesis stream in Virginia."""
    for region, group in (("eu-west-2", "audit-london"), ("eu-central-1", "app-logs-frankfurt")):
        c("logs", region).create_log_group(logGroupName=group)
        emu.fakes.index(_arn(region, "logs", f"log-group:{group}"))
    sink = _arn("us-east-1", "kinesis", "stream/log-sink")
    emu.fakes.log_subscriptions[("eu-central-1", "app-logs-frankfurt")] = [("to-siem", sink)]


def seed_kinesis(emu: AwsEmulator, c: Client) -> None:
    c("kinesis", "us-east-1").create_stream(StreamName="log-sink", ShardCount=1)
    emu.fakes.index(_arn("us-east-1", "kinesis", "stream/log-sink"))


def seed_sqs(emu: AwsEmulator, c: Client) -> None:
    c("sqs", "us-east-1").create_queue(QueueName="jobs-virginia")
    c("sqs", "eu-west-1").create_queue(QueueName="jobs-ireland")
    emu.fakes.index(_arn("us-east-1", "sqs", "jobs-virginia"), _arn("eu-west-1", "sqs", "jobs-ireland"))


def seed_sns(emu: AwsEmulator, c: Client) -> None:
    emu.fakes.index(c("sns", "eu-west-1").create_topic(Name="alerts")["TopicArn"])


def seed_kafka(emu: AwsEmulator, c: Client) -> None:
    kafka = c("kafka", "eu-north-1")
    kafka.create_cluster_v2(ClusterName="events", Serverless={"VpcConfigs": [{"SubnetIds": ["subnet-0123456789"]}]})
    emu.fakes.index(*(i["ClusterArn"] for i in kafka.list_clusters_v2()["ClusterInfoList"]))


def seed_opensearch(emu: AwsEmulator, c: Client) -> None:
    """An Irish domain with a cross-cluster connection to a domain in Ohio."""
    for region, name in (("eu-west-1", "search-ireland"), ("us-east-2", "search-ohio")):
        c("opensearch", region).create_domain(DomainName=name)
        emu.fakes.index(_arn(region, "es", f"domain/{name}"))
    emu.fakes.opensearch_connections["eu-west-1"] = [("search-ireland", "search-ohio", "us-east-2", "DIRECT")]


def seed_eks(emu: AwsEmulator, c: Client) -> None:
    arn = c("eks", "us-east-1").create_cluster(
        name="k8s-virginia",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/lambda-exec",
        resourcesVpcConfig={"subnetIds": ["subnet-0123456789"]},
    )["cluster"]["arn"]
    emu.fakes.index(arn)


def seed_ecs(emu: AwsEmulator, c: Client) -> None:
    emu.fakes.index(c("ecs", "eu-west-1").create_cluster(clusterName="shop")["cluster"]["clusterArn"])


def seed_cognito(emu: AwsEmulator, c: Client) -> None:
    pool = c("cognito-idp", "us-east-1").create_user_pool(PoolName="customers-virginia")["UserPool"]["Id"]
    emu.fakes.index(_arn("us-east-1", "cognito-idp", f"userpool/{pool}"))


def seed_cloudfront(emu: AwsEmulator, c: Client) -> None:
    """A distribution with price class All (edges worldwide, the US included) in front of an Irish bucket."""
    origin = "invoices-ireland.s3.eu-west-1.amazonaws.com"
    dist = c("cloudfront", "us-east-1").create_distribution(
        DistributionConfig={
            "CallerReference": "residency-audit-demo",
            "Comment": "invoices",
            "Enabled": True,
            "PriceClass": "PriceClass_All",
            "Origins": {
                "Quantity": 1,
                "Items": [{"Id": "invoices", "DomainName": origin, "S3OriginConfig": {"OriginAccessIdentity": ""}}],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "invoices",
                "ViewerProtocolPolicy": "https-only",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )["Distribution"]
    emu.fakes.index(dist["ARN"])


def seed_bedrock(emu: AwsEmulator, c: Client) -> None:
    """Two application inference profiles in Frankfurt: one copied from an `eu.` system profile
    (EU regions only), one from a `us.` profile (prompts processed across the US)."""
    model = "foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    emu.fakes.inference_profiles["eu-central-1"] = [
        ("assistant-eu", [f"arn:aws:bedrock:{r}::{model}" for r in ("eu-central-1", "eu-west-1", "eu-west-3")]),
        ("assistant-us", [f"arn:aws:bedrock:{r}::{model}" for r in ("us-east-1", "us-east-2")]),
    ]
    for name, _ in emu.fakes.inference_profiles["eu-central-1"]:
        emu.fakes.index(_arn("eu-central-1", "bedrock", f"application-inference-profile/{name}"))


#: In the order they are planted (the id generator is seeded: the same order gives the same ids).
SEEDS = (
    seed_rds,
    seed_elasticache,
    seed_memorydb,
    seed_redshift,
    seed_fsx,
    seed_ecr,
    seed_mrap,
    seed_secretsmanager,
    seed_kms,
    seed_kinesis,
    seed_logs,
    seed_sqs,
    seed_sns,
    seed_kafka,
    seed_opensearch,
    seed_eks,
    seed_ecs,
    seed_cognito,
    seed_cloudfront,
    seed_bedrock,
)


def seed_more(emu: AwsEmulator, client: Client, made: dict[str, Any]) -> None:
    for seed in SEEDS:
        seed(emu, client)
    # A type no reader knows, that only an inventory sees: an App Runner service in Virginia.
    apprunner = _arn("us-east-1", "apprunner", "service/storefront/8fe1e10304f84fd2b0df550fe98a71fa")
    emu.fakes.index(apprunner)
    made["inventory_only"] = [apprunner]


def index_estate(emu: AwsEmulator, client: Client, regions: list[str], made: dict[str, Any]) -> None:
    """Index the first part of the estate as Resource Explorer would (what moto invented ids for
    is read back from moto by the seed, not by the scanner), and set up the indexes: a local
    index in every enabled region, the aggregator in Frankfurt."""
    fakes = emu.fakes
    for region in regions:
        ec2 = client("ec2", region)
        for res in ec2.describe_instances()["Reservations"]:
            for inst in res["Instances"]:
                fakes.index(_arn(region, "ec2", f"instance/{inst['InstanceId']}"))
        for vol in ec2.describe_volumes()["Volumes"]:
            fakes.index(_arn(region, "ec2", f"volume/{vol['VolumeId']}"))
        for snap in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]:
            fakes.index(f"arn:aws:ec2:{region}::snapshot/{snap['SnapshotId']}")
        fakes.index(
            *(f"arn:aws:ec2:{region}::image/{i['ImageId']}" for i in ec2.describe_images(Owners=["self"])["Images"])
        )
        rds = client("rds", region)
        fakes.index(*(db["DBInstanceArn"] for db in rds.describe_db_instances()["DBInstances"]))
        fakes.index(*(s["DBSnapshotArn"] for s in rds.describe_db_snapshots()["DBSnapshots"]))
        ddb = client("dynamodb", region)
        fakes.index(*(_arn(region, "dynamodb", f"table/{t}") for t in ddb.list_tables()["TableNames"]))
        fakes.index(*(f["FunctionArn"] for f in client("lambda", region).list_functions()["Functions"]))
        fakes.index(*(f["FileSystemArn"] for f in client("efs", region).describe_file_systems()["FileSystems"]))
        backup = client("backup", region)
        fakes.index(*(v["BackupVaultArn"] for v in backup.list_backup_vaults()["BackupVaultList"]))
        fakes.index(*(p["BackupPlanArn"] for p in backup.list_backup_plans()["BackupPlansList"]))
    fakes.index(*(f"arn:aws:s3:::{b['Name']}" for b in client("s3", "us-east-1").list_buckets()["Buckets"]))
    fakes.index(*(r["Arn"] for r in client("iam", "us-east-1").list_roles()["Roles"]))
    enabled = [r["RegionName"] for r in client("ec2", "us-east-1").describe_regions()["Regions"]]
    fakes.explorer_indexes = {r: "LOCAL" for r in enabled}
    fakes.explorer_indexes["eu-central-1"] = "AGGREGATOR"
    fakes.config_recording = set(enabled)
    made["indexed"] = len(fakes.resources)
