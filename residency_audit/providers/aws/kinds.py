"""AWS kinds, each declared once: its reads (-> the allow-list and `permissions aws`), its
reader, its Terraform types, its category and whether its footprint is modelled.

Adding a kind: a `Kind` here, its reader in `readers.py` or `readers_more.py` (a function of
the name `Kind.reader` says), its seed in the demo estate (`residency_emulator.estate_more`,
`seed_<Kind.seed>`), and its expected finding in the estate's test.
"""

from __future__ import annotations

from ...kinds import Category
from ..base import Kind, ReadOperation


def _r(service: str, operation: str, permission: str = "") -> ReadOperation:
    """A botocore operation and its IAM action (`service:Operation` unless the IAM name differs)."""
    return ReadOperation(service, operation, permission or f"{service}:{operation}")


#: Who the caller is, which regions are enabled, where the account sits in the organisation.
BASE_READS: tuple[ReadOperation, ...] = (
    _r("sts", "GetCallerIdentity"),
    _r("ec2", "DescribeRegions"),
    _r("organizations", "DescribeOrganization"),
    _r("organizations", "DescribeAccount"),
    _r("organizations", "ListParents"),
    _r("organizations", "DescribeOrganizationalUnit"),
)

#: `scan aws --organization`: the tree once, then one role per member account. AssumeRole
#: changes nothing in the estate: it issues temporary credentials for the read-only role.
ORGANIZATION_READS: tuple[ReadOperation, ...] = (
    _r("organizations", "ListRoots"),
    _r("organizations", "ListOrganizationalUnitsForParent"),
    _r("organizations", "ListAccountsForParent"),
    _r("sts", "AssumeRole"),
)

#: `guardrails aws`: the service control policies attached along the tree.
GUARDRAIL_READS: tuple[ReadOperation, ...] = (
    _r("organizations", "ListPoliciesForTarget"),
    _r("organizations", "DescribePolicy"),
)

_EFS = "elasticfilesystem"

_FIRST_KINDS: tuple[Kind, ...] = (
    Kind(
        "s3.bucket",
        service="s3",
        category="data",
        reads=(
            _r("s3", "ListBuckets", "s3:ListAllMyBuckets"),
            _r("s3", "GetBucketLocation"),
            _r("s3", "GetBucketReplication", "s3:GetReplicationConfiguration"),
            _r("s3", "GetBucketTagging"),
        ),
        reader="s3_buckets",
        terraform=("aws_s3_bucket",),
        footprint=True,
        seed="s3",
        doc="S3 buckets and their tags: their region, and every enabled replication rule's destination bucket",
        inventory=("s3:bucket",),
    ),
    Kind(
        "ec2.instance",
        service="ec2",
        category="compute",
        reads=(_r("ec2", "DescribeInstances"),),
        reader="ec2",
        terraform=("aws_instance",),
        footprint=True,
        seed="ec2",
        doc="EC2 instances, in their availability zone (a Local or Wavelength zone may be in another country)",
        inventory=("ec2:instance",),
    ),
    Kind(
        "ec2.volume",
        service="ec2",
        category="data",
        reads=(_r("ec2", "DescribeVolumes"),),
        reader="ec2",
        terraform=("aws_ebs_volume",),
        footprint=True,
        seed="ec2",
        doc="EBS volumes, in their availability zone",
        inventory=("ec2:volume",),
    ),
    Kind(
        "ec2.snapshot",
        service="ec2",
        category="data",
        reads=(_r("ec2", "DescribeSnapshots"),),
        reader="ec2",
        terraform=("aws_ebs_snapshot", "aws_ebs_snapshot_copy"),
        footprint=True,
        seed="ec2",
        doc="EBS snapshots the account owns, in the region they are stored (a copy is a snapshot of its own)",
        inventory=("ec2:snapshot",),
    ),
    Kind(
        "ec2.image",
        service="ec2",
        category="data",
        reads=(_r("ec2", "DescribeImages"),),
        reader="ec2",
        footprint=True,
        seed="ec2",
        doc="AMIs the account owns, in their region, each linked to the snapshots that hold its data",
        inventory=("ec2:image",),
    ),
    Kind(
        "rds.instance",
        service="rds",
        category="data",
        reads=(_r("rds", "DescribeDBInstances"),),
        reader="rds",
        terraform=("aws_db_instance",),
        footprint=True,
        seed="rds",
        doc="RDS instances: cross-region read replicas (and the source of a replica), replicated automated backups",
        inventory=("rds:db",),
    ),
    Kind(
        "rds.snapshot",
        service="rds",
        category="data",
        reads=(_r("rds", "DescribeDBSnapshots"),),
        reader="rds",
        footprint=True,
        seed="rds",
        terraform=("aws_db_snapshot_copy",),
        doc="RDS DB snapshots (manual and automated) in the region they are stored, linked to their "
        "instance or, for a copy, to the snapshot it was copied from",
        inventory=("rds:snapshot",),
    ),
    Kind(
        "rds.cluster",
        service="rds",
        category="data",
        reads=(_r("rds", "DescribeDBClusters"),),
        reader="rds",
        terraform=("aws_rds_cluster",),
        footprint=True,
        seed="rds",
        doc="Aurora/RDS clusters and their cross-region replica clusters",
        inventory=("rds:cluster",),
    ),
    Kind(
        "dynamodb.table",
        service="dynamodb",
        category="data",
        reads=(
            _r("dynamodb", "ListTables"),
            _r("dynamodb", "DescribeTable"),
            _r("dynamodb", "ListTagsOfResource"),
            _r("dynamodb", "ListExports"),
            _r("dynamodb", "DescribeExport"),
            _r("s3", "GetBucketLocation"),
        ),
        reader="dynamodb",
        terraform=("aws_dynamodb_table",),
        footprint=True,
        seed="dynamodb",
        doc="DynamoDB tables and their tags: global-table (2019) replica regions, and the buckets their exports "
        "to S3 went to",
        inventory=("dynamodb:table",),
    ),
    Kind(
        "lambda.function",
        service="lambda",
        category="compute",
        reads=(_r("lambda", "ListFunctions"),),
        reader="lambda_functions",
        terraform=("aws_lambda_function",),
        footprint=True,
        seed="lambda",
        doc="Lambda functions, in their region",
        inventory=("lambda:function",),
    ),
    Kind(
        "efs.filesystem",
        service="efs",
        category="data",
        reads=(
            _r("efs", "DescribeFileSystems", f"{_EFS}:DescribeFileSystems"),
            _r("efs", "DescribeReplicationConfigurations", f"{_EFS}:DescribeReplicationConfigurations"),
        ),
        reader="efs",
        terraform=("aws_efs_file_system",),
        footprint=True,
        seed="efs",
        doc="EFS file systems and their replication destinations",
        inventory=("elasticfilesystem:file-system",),
    ),
    Kind(
        "backup.vault",
        service="backup",
        category="data",
        reads=(_r("backup", "ListBackupVaults"),),
        reader="backup",
        terraform=("aws_backup_vault",),
        footprint=True,
        seed="backup",
        doc="AWS Backup vaults: recovery points are stored in the vault's region",
        inventory=("backup:backup-vault",),
    ),
    Kind(
        "backup.recoverypoint",
        service="backup",
        category="data",
        reads=(_r("backup", "ListRecoveryPointsByBackupVault"),),
        reader="backup",
        footprint=True,
        seed="backup",
        doc="AWS Backup recovery points, in their vault's region, linked to the resource they back up, "
        "with the date their lifecycle deletes them (EBS, EC2 and FSx ones are the snapshots, images and "
        "backups their own readers report)",
        # listed per vault, not per type: where an inventory saw no vault there is none to list
        inventory=(),
    ),
    Kind(
        "backup.plan",
        service="backup",
        category="data",
        reads=(_r("backup", "ListBackupPlans"), _r("backup", "GetBackupPlan")),
        reader="backup",
        terraform=("aws_backup_plan",),
        footprint=True,
        seed="backup",
        doc="AWS Backup plans: their region, and every copy action's destination vault region",
        inventory=("backup:backup-plan",),
    ),
)


def _kind(
    name: str,
    reader: str,
    category: Category,
    reads: tuple[ReadOperation, ...],
    doc: str,
    inventory: tuple[str, ...],
    terraform: tuple[str, ...] = (),
    service: str = "",
    seed: str = "",
    footprint: bool = True,
) -> Kind:
    """A kind of the long list, on one line each: its botocore service is its reads' (unless given)."""
    return Kind(
        name,
        service=service or reads[0].service,
        category=category,
        reads=reads,
        reader=reader,
        terraform=terraform,
        footprint=footprint,
        seed=seed or reader,
        doc=doc,
        inventory=inventory,
    )


_GLOBAL_CLUSTERS = (_r("rds", "DescribeGlobalClusters"),)
_CLUSTERS = (_r("rds", "DescribeDBClusters"),)
_ES = "es"

#: The services that copy data, and the rest of the services that hold it (issue 16).
MORE_KINDS: tuple[Kind, ...] = (
    # -- databases whose copies live in other regions
    _kind(
        "rds.globalcluster",
        "rds",
        "data",
        _GLOBAL_CLUSTERS,
        "Aurora global databases: the region of every member cluster (writer and secondaries)",
        ("rds:global-cluster",),
        ("aws_rds_global_cluster",),
    ),
    _kind(
        "docdb.cluster",
        "rds",
        "data",
        _CLUSTERS,
        "DocumentDB clusters (read through the RDS API, engine docdb)",
        ("rds:cluster",),
        ("aws_docdb_cluster",),
    ),
    _kind(
        "docdb.globalcluster",
        "rds",
        "data",
        _GLOBAL_CLUSTERS,
        "DocumentDB global clusters: the region of every member cluster",
        ("rds:global-cluster",),
        ("aws_docdb_global_cluster",),
    ),
    _kind(
        "neptune.cluster",
        "rds",
        "data",
        _CLUSTERS,
        "Neptune clusters (read through the RDS API, engine neptune)",
        ("rds:cluster",),
        ("aws_neptune_cluster",),
    ),
    _kind(
        "neptune.globalcluster",
        "rds",
        "data",
        _GLOBAL_CLUSTERS,
        "Neptune global databases: the region of every member cluster",
        ("rds:global-cluster",),
        ("aws_neptune_global_cluster",),
    ),
    _kind(
        "elasticache.replicationgroup",
        "elasticache",
        "data",
        (_r("elasticache", "DescribeReplicationGroups"), _r("elasticache", "DescribeGlobalReplicationGroups")),
        "ElastiCache replication groups and, for a member of a global datastore, every other member's region",
        ("elasticache:replicationgroup",),
        ("aws_elasticache_replication_group",),
    ),
    _kind(
        "elasticache.globalreplicationgroup",
        "elasticache",
        "data",
        (_r("elasticache", "DescribeGlobalReplicationGroups"),),
        "ElastiCache global datastores: the region of every member replication group",
        ("elasticache:globalreplicationgroup",),
        ("aws_elasticache_global_replication_group",),
    ),
    _kind(
        "memorydb.cluster",
        "memorydb",
        "data",
        (_r("memorydb", "DescribeClusters"), _r("memorydb", "DescribeMultiRegionClusters")),
        "MemoryDB clusters and, for a member of a multi-Region cluster, every other member's region",
        ("memorydb:cluster",),
        ("aws_memorydb_cluster",),
    ),
    _kind(
        "redshift.cluster",
        "redshift",
        "data",
        (_r("redshift", "DescribeClusters"),),
        "Redshift clusters and the region their snapshots are copied to (cross-region snapshot copy)",
        ("redshift:cluster",),
        ("aws_redshift_cluster",),
    ),
    # -- storage and copies of it
    _kind(
        "fsx.filesystem",
        "fsx",
        "data",
        (_r("fsx", "DescribeFileSystems"),),
        "FSx file systems, in their region",
        ("fsx:file-system",),
    ),
    _kind(
        "fsx.backup",
        "fsx",
        "data",
        (_r("fsx", "DescribeBackups"),),
        "FSx backups in the region they are stored (a copy from another region is a backup of its own)",
        ("fsx:backup",),
    ),
    _kind(
        "ecr.repository",
        "ecr",
        "data",
        (_r("ecr", "DescribeRepositories"), _r("ecr", "DescribeRegistry")),
        "ECR repositories and every region the registry's replication rules copy them to",
        ("ecr:repository",),
    ),
    _kind(
        "ecr.pullthroughcacherule",
        "ecr",
        "data",
        (_r("ecr", "DescribePullThroughCacheRules"),),
        "ECR pull-through cache rules: the images they cache from an upstream registry are stored in the "
        "registry's region (no inventory lists the rules: read wherever ECR is read)",
        ("ecr:pull-through-cache-rule",),
    ),
    _kind(
        "secretsmanager.secret",
        "secretsmanager",
        "data",
        (_r("secretsmanager", "ListSecrets"), _r("secretsmanager", "DescribeSecret")),
        "Secrets Manager secrets and their replica regions",
        ("secretsmanager:secret",),
        ("aws_secretsmanager_secret",),
    ),
    _kind(
        "kms.key",
        "kms",
        "data",
        (_r("kms", "ListKeys"), _r("kms", "DescribeKey")),
        "KMS keys and, for a multi-Region key, the region of its primary and every replica",
        ("kms:key",),
        ("aws_kms_key",),
    ),
    _kind(
        "logs.loggroup",
        "logs",
        "data",
        (_r("logs", "DescribeLogGroups"), _r("logs", "DescribeSubscriptionFilters")),
        "CloudWatch Logs log groups and the region of every subscription filter's destination",
        ("logs:log-group",),
        ("aws_cloudwatch_log_group",),
    ),
    _kind(
        "s3.multiregionaccesspoint",
        "s3_multi_region_access_points",
        "data",
        (_r("s3control", "ListMultiRegionAccessPoints", "s3:ListMultiRegionAccessPoints"),),
        "S3 Multi-Region Access Points: the region of every member bucket (requests are routed to any "
        "of them), each bucket linked; a member bucket of another account is named",
        ("s3:accesspoint",),
        seed="mrap",
    ),
    # -- streams, queues, topics, search, containers, identities, AI
    _kind(
        "kinesis.stream",
        "kinesis",
        "data",
        (_r("kinesis", "ListStreams"),),
        "Kinesis data streams, in their region",
        ("kinesis:stream",),
        footprint=False,
    ),
    _kind(
        "sqs.queue",
        "sqs",
        "data",
        (_r("sqs", "ListQueues"),),
        "SQS queues, in their region",
        ("sqs:queue",),
        footprint=False,
    ),
    _kind(
        "sns.topic",
        "sns",
        "data",
        (_r("sns", "ListTopics"),),
        "SNS topics, in their region",
        ("sns:topic",),
        footprint=False,
    ),
    _kind(
        "kafka.cluster",
        "kafka",
        "data",
        (_r("kafka", "ListClustersV2"),),
        "MSK clusters (provisioned and serverless), in their region",
        ("kafka:cluster", "kafka:serverless-cluster"),
        footprint=False,
    ),
    _kind(
        "opensearch.domain",
        "opensearch",
        "data",
        (
            _r("opensearch", "ListDomainNames", f"{_ES}:ListDomainNames"),
            _r("opensearch", "DescribeOutboundConnections", f"{_ES}:DescribeOutboundConnections"),
        ),
        "OpenSearch domains and the region of every remote domain of a cross-cluster connection "
        "(replication and search)",
        ("es:domain",),
    ),
    _kind(
        "eks.cluster",
        "eks",
        "compute",
        (_r("eks", "ListClusters"),),
        "EKS clusters, in their region",
        ("eks:cluster",),
        footprint=False,
    ),
    _kind(
        "ecs.cluster",
        "ecs",
        "compute",
        (_r("ecs", "ListClusters"),),
        "ECS clusters, in their region",
        ("ecs:cluster",),
        footprint=False,
    ),
    _kind(
        "cognito.userpool",
        "cognito",
        "data",
        (_r("cognito-idp", "ListUserPools"),),
        "Cognito user pools (the users' identities), in their region",
        ("cognito-idp:userpool",),
        footprint=False,
    ),
    _kind(
        "cloudfront.distribution",
        "cloudfront",
        "network",
        (_r("cloudfront", "ListDistributions"), _r("s3", "GetBucketLocation")),
        "CloudFront distributions: their edge locations per price class (every class includes the United "
        "States) and the region of every S3 or regional origin",
        ("cloudfront:distribution",),
    ),
    _kind(
        "bedrock.inferenceprofile",
        "bedrock",
        "compute",
        (_r("bedrock", "ListInferenceProfiles"),),
        "Bedrock application inference profiles: every region their models process prompts in (a "
        "profile copied from a us./eu./global. system profile routes across that geography)",
        ("bedrock:application-inference-profile",),
    ),
)

KINDS: tuple[Kind, ...] = _FIRST_KINDS + MORE_KINDS

#: `--inventory`: the inventory services a scan lists an account's resources through before the
#: readers run (Resource Explorer's aggregator index, AWS Config, the Tagging API).
INVENTORY_READS: tuple[ReadOperation, ...] = (
    _r("resource-explorer-2", "ListIndexes"),
    _r("resource-explorer-2", "GetDefaultView"),
    _r("resource-explorer-2", "GetView"),
    _r("resource-explorer-2", "ListResources"),
    _r("resource-explorer-2", "ListSupportedResourceTypes"),
    _r("config", "DescribeConfigurationAggregators"),
    _r("config", "SelectAggregateResourceConfig"),
    _r("config", "DescribeConfigurationRecorderStatus"),
    _r("config", "DescribeConfigurationRecorders"),
    _r("config", "SelectResourceConfig"),
    _r("resourcegroupstaggingapi", "GetResources", "tag:GetResources"),
)

#: Services a scan can be limited to (`scan aws --services`), in the order they are read.
SERVICES: tuple[str, ...] = tuple(dict.fromkeys(k.service for k in KINDS))
#: Listed once per account (S3 buckets are global; each bucket then says its region; S3 Control's
#: Multi-Region Access Point API is served from us-west-2 only).
GLOBAL_SERVICES: tuple[str, ...] = ("s3", "s3control", "cloudfront")


def read_operations() -> tuple[ReadOperation, ...]:
    """Every operation the AWS adapter, the organisation walker and the guardrail reader may send."""
    ops = [*BASE_READS, *ORGANIZATION_READS, *GUARDRAIL_READS, *INVENTORY_READS, *(r for k in KINDS for r in k.reads)]
    return tuple(dict.fromkeys(ops))


def kind(name: str) -> Kind:
    return next(k for k in KINDS if k.name == name)
