"""AWS kinds, each declared once: its reads (-> the allow-list and `permissions aws`), its
reader, its Terraform types, its category and whether its footprint is modelled.

Adding a kind: a `Kind` here, its reader in `readers.py` (listed under the same name), its
seed in the demo estate (`residency_emulator.estate`), and a test.
"""

from __future__ import annotations

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

KINDS: tuple[Kind, ...] = (
    Kind(
        "s3.bucket",
        service="s3",
        category="data",
        reads=(
            _r("s3", "ListBuckets", "s3:ListAllMyBuckets"),
            _r("s3", "GetBucketLocation"),
            _r("s3", "GetBucketReplication", "s3:GetReplicationConfiguration"),
        ),
        reader="s3_buckets",
        terraform=("aws_s3_bucket",),
        footprint=True,
        seed="s3",
        doc="S3 buckets: their region, and every enabled replication rule's destination bucket region",
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
    ),
    Kind(
        "dynamodb.table",
        service="dynamodb",
        category="data",
        reads=(_r("dynamodb", "ListTables"), _r("dynamodb", "DescribeTable")),
        reader="dynamodb",
        terraform=("aws_dynamodb_table",),
        footprint=True,
        seed="dynamodb",
        doc="DynamoDB tables and their global-table replica regions",
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
    ),
)

#: Services a scan can be limited to (`scan aws --services`), in the order they are read.
SERVICES: tuple[str, ...] = tuple(dict.fromkeys(k.service for k in KINDS))
#: Listed once per account (S3 buckets are global; each bucket then says its region).
GLOBAL_SERVICES: tuple[str, ...] = ("s3",)


def read_operations() -> tuple[ReadOperation, ...]:
    """Every operation the AWS adapter, the organisation walker and the guardrail reader may send."""
    ops = [*BASE_READS, *ORGANIZATION_READS, *GUARDRAIL_READS, *(r for k in KINDS for r in k.reads)]
    return tuple(dict.fromkeys(ops))


def kind(name: str) -> Kind:
    return next(k for k in KINDS if k.name == name)
