"""What moto does not emulate, served behind the same loopback front in each service's real
wire protocol (botocore's service model says which): the SDK parses real responses.

- AWS Resource Explorer 2 (REST-JSON): indexes, the default view, ListResources, supported types;
- AWS Config `Select(Aggregate)ResourceConfig`, aggregators and recorder status (JSON 1.1):
  moto answers Select with canned results only;
- ElastiCache global datastores (query/XML), and the member's `GlobalReplicationGroupInfo`;
- DocumentDB: moto refuses the `docdb` engine, so clusters are made as Aurora and the front
  reports the engine AWS would, in DescribeDBClusters and DescribeGlobalClusters;
- CloudWatch Logs subscription filters (moto delivers a test message to the destination first);
- OpenSearch outbound cross-cluster connections, Bedrock inference profiles (REST-JSON);
- DynamoDB ListExports without a table (moto requires one; AWS lists the region's exports);
- AWS Backup recovery points (REST-JSON): moto has vaults and plans but no backup jobs, so a
  seed adds recovery points here (`add_recovery_point`); ListRecoveryPointsByBackupVault and
  DeleteRecoveryPoint serve them.
- S3 Control ListMultiRegionAccessPoints (REST-XML, the account in `x-amz-account-id`): moto
  has the API but puts every member bucket in us-east-1 (its lookup skips the partition-wide
  backend its buckets live in) and never reports a member of another account; a seed adds
  access points here (`add_multi_region_access_point`);
- ECR DescribePullThroughCacheRules (JSON 1.1), which moto lacks (`pull_through_rules`).

The resource index (Explorer and Config) is what the seed says exists (`index`): the same
resources the seed creates in moto, plus types no emulator has (App Runner, Lightsail...).
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any

from .front import Request, Response

_CRED_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
ACCOUNT = "123456789012"


def _scope(req: Request) -> tuple[str, str]:
    m = _CRED_SCOPE.search(req.headers.get("Authorization", ""))
    return (m.group(1), m.group(2)) if m else ("", "")


def _json(doc: Any, content_type: str = "application/json", crc: bool = False) -> Response:
    body = json.dumps(doc).encode()
    headers = {"Content-Type": content_type, "x-amzn-RequestId": "fake"}
    if crc:
        headers["x-amz-crc32"] = str(zlib.crc32(body))
    return Response(200, headers, body)


def _error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"__type": code, "message": message}).encode()
    return Response(status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, body)


#: Types this fake's Resource Explorer says it indexes besides those its index holds (a subset
#: of what AWS documents as supported), so that a reader is not asked where the index has none.
EXPLORER_TYPES = frozenset(
    {
        "apprunner:service",
        "backup:backup-plan",
        "backup:backup-vault",
        "cloudfront:distribution",
        "cognito-idp:userpool",
        "dynamodb:table",
        "ec2:image",
        "ec2:instance",
        "ec2:snapshot",
        "ec2:volume",
        "ecr:repository",
        "ecs:cluster",
        "eks:cluster",
        "elasticache:cluster",
        "elasticache:globalreplicationgroup",
        "elasticache:replicationgroup",
        "elasticfilesystem:file-system",
        "es:domain",
        "fsx:backup",
        "fsx:file-system",
        "iam:role",
        "kafka:cluster",
        "kafka:serverless-cluster",
        "kinesis:stream",
        "kms:key",
        "lambda:function",
        "logs:log-group",
        "memorydb:cluster",
        "rds:cluster",
        "rds:db",
        "rds:global-cluster",
        "rds:snapshot",
        "redshift:cluster",
        "s3:bucket",
        "secretsmanager:secret",
        "sns:topic",
        "sqs:queue",
    }
)


def _caller_account(req: Request) -> str:
    """The account whose credentials signed the request, as moto maps them (assumed roles too)."""
    from moto.iam.models import get_account_id_from

    m = re.search(r"Credential=([^/]+)/", req.headers.get("Authorization", ""))
    return get_account_id_from(m.group(1)) if m else ACCOUNT


def _moto_tags(rows: list[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """ARN -> tags, as moto's own backends hold them now (the inventories read the estate's
    tags as they are, not as they were indexed), for the (arn, account) rows of one page."""
    from moto.core.resource_tagging import iter_taggable_backends

    wanted = {arn for arn, _ in rows}
    out: dict[str, dict[str, str]] = {}
    for acct, region in sorted({(acct, arn.split(":")[3] or "us-east-1") for arn, acct in rows}):
        for backend in iter_taggable_backends(acct, region):
            for res in backend.iter_tagged_resources():
                if res.arn in wanted and res.tags:
                    out.setdefault(res.arn, dict(res.tags))
    return out


def _arn_type(arn: str) -> str:
    parts = arn.split(":", 5)
    resource = parts[5] if len(parts) > 5 else ""
    cut = min((i for i in (resource.find("/"), resource.find(":")) if i >= 0), default=-1)
    if cut > 0:
        return f"{parts[2]}:{resource[:cut]}"
    return f"{parts[2]}:" + {"s3": "bucket", "sqs": "queue", "sns": "topic"}.get(parts[2], "resource")


@dataclass
class AwsFakes:
    #: Resource Explorer: region -> index type (LOCAL / AGGREGATOR); empty: not set up
    explorer_indexes: dict[str, str] = field(default_factory=dict)
    #: the default view's filter string ("" = everything)
    explorer_filter: str = ""
    #: the default view includes the `tags` property (ListResources then returns each resource's tags)
    explorer_tags: bool = True
    #: the default view is an organisation-wide one: every account's resources, not the caller's only
    explorer_org_view: bool = False
    #: types the fake's Explorer says it does not index (ListSupportedResourceTypes leaves them out)
    explorer_unsupported: set[str] = field(default_factory=set)
    #: arn -> owning account: every resource the inventories know
    resources: dict[str, str] = field(default_factory=dict)
    #: AWS Config: the aggregator ({"name", "accounts", "all_regions"}) and regions with a running recorder
    config_aggregator: dict[str, Any] | None = None
    config_recording: set[str] = field(default_factory=set)
    #: regions whose recorder records only some types (not `allSupported`)
    config_some_types: set[str] = field(default_factory=set)
    #: DocumentDB: global-cluster and cluster identifiers whose engine AWS reports as docdb
    docdb: set[str] = field(default_factory=set)
    #: ElastiCache global datastores: id -> [(replication group, region, PRIMARY|SECONDARY)]
    elasticache_globals: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    #: (region, log group) -> [(filter name, destination ARN)]
    log_subscriptions: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    #: region -> [(local domain, remote domain, remote region, mode)]
    opensearch_connections: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)
    #: region -> [(profile name, [model ARNs])]
    inference_profiles: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
    #: region -> [(table ARN, bucket, bucket owner)]
    dynamodb_exports: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    #: (region, vault name) -> recovery points, as ListRecoveryPointsByBackupVault returns them
    recovery_points: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: account -> Multi-Region Access Points, as ListMultiRegionAccessPoints reports them
    mraps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: ListMultiRegionAccessPoints page size (a test makes it small to exercise NextToken)
    mrap_page: int = 100
    #: region -> [(ECR repository prefix, upstream registry URL)]
    pull_through_rules: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def index(self, *arns: str, account: str = ACCOUNT) -> None:
        with self._lock:
            for arn in arns:
                self.resources[arn] = account

    def add_recovery_point(
        self,
        vault_arn: str,
        resource_arn: str,
        created: float,
        delete_at: float | None = None,
        source_vault_arn: str = "",
        account: str = ACCOUNT,
    ) -> str:
        """A completed recovery point of `resource_arn` in the vault; returns its ARN."""
        region, vault = vault_arn.split(":")[3], vault_arn.rsplit(":", 1)[-1]
        with self._lock:
            points = self.recovery_points.setdefault((region, vault), [])
            arn = f"arn:aws:backup:{region}:{account}:recovery-point:{vault}-{len(points) + 1:04d}"
            rp: dict[str, Any] = {
                "RecoveryPointArn": arn,
                "BackupVaultName": vault,
                "BackupVaultArn": vault_arn,
                "ResourceArn": resource_arn,
                "ResourceType": resource_arn.split(":")[2],
                "ResourceName": resource_arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1],
                "Status": "COMPLETED",
                "CreationDate": created,
                "CompletionDate": created,
            }
            if delete_at is not None:
                rp["CalculatedLifecycle"] = {"DeleteAt": delete_at}
            if source_vault_arn:
                rp["SourceBackupVaultArn"] = source_vault_arn
            points.append(rp)
        return arn

    def add_multi_region_access_point(
        self, name: str, members: list[tuple[str, str, str]], account: str = ACCOUNT
    ) -> str:
        """An access point over (bucket, region, bucket account) members; returns its ARN."""
        import base64
        import hashlib

        alias = base64.b32encode(hashlib.sha256(f"{account}/{name}".encode()).digest()).decode().lower()[:13]
        regions = [{"Bucket": b, "Region": r, "BucketAccountId": a or account} for b, r, a in members]
        with self._lock:
            self.mraps.setdefault(account, []).append(
                {"Name": name, "Alias": f"{alias}.mrap", "Status": "READY", "Regions": regions}
            )
        return f"arn:aws:s3::{account}:accesspoint/{alias}.mrap"

    def reset(self) -> None:
        fresh = AwsFakes()
        for name in self.__dataclass_fields__:
            if name != "_lock":
                setattr(self, name, getattr(fresh, name))

    # ------------------------------------------------------------------ dispatch

    def request(self, req: Request) -> Response | None:
        region, service = _scope(req)
        target = req.headers.get("X-Amz-Target", "")
        if service == "resource-explorer-2":
            return self._explorer(req, region)
        if service == "s3" and req.method == "GET" and req.path.split("?")[0] == "/v20180820/mrap/instances":
            return self._mraps(req)
        if target == "AmazonEC2ContainerRegistry_V20150921.DescribePullThroughCacheRules":
            rules = [
                {"ecrRepositoryPrefix": p, "upstreamRegistryUrl": u, "registryId": ACCOUNT, "createdAt": 1767225600}
                for p, u in self.pull_through_rules.get(region, [])
            ]
            return _json({"pullThroughCacheRules": rules}, "application/x-amz-json-1.1")
        if service == "backup" and "/recovery-points/" in req.path:
            return self._recovery_points(req, region)
        if target.startswith("StarlingDoveService."):
            return self._config(target.rsplit(".", 1)[-1], req, region)
        if service == "elasticache" and b"Action=DescribeGlobalReplicationGroups" in req.body:
            return self._global_datastores()
        if target == "Logs_20140328.DescribeSubscriptionFilters":
            group = json.loads(req.body or b"{}").get("logGroupName", "")
            subs = self.log_subscriptions.get((region, group), [])
            return _json(
                {
                    "subscriptionFilters": [
                        {"filterName": n, "logGroupName": group, "filterPattern": "", "destinationArn": d}
                        for n, d in subs
                    ]
                },
                "application/x-amz-json-1.1",
            )
        if service == "es" and req.path.startswith("/2021-01-01/opensearch/cc/outboundConnection/search"):
            return self._connections(region)
        if service == "bedrock" and req.method == "GET" and req.path.split("?")[0] == "/inference-profiles":
            return self._profiles(region, req.path)
        if target == "DynamoDB_20120810.ListExports" and "TableArn" not in json.loads(req.body or b"{}"):
            exports = [
                {"ExportArn": f"{t}/export/{i:08d}", "ExportStatus": "COMPLETED", "ExportType": "FULL_EXPORT"}
                for i, (t, _, _) in enumerate(self.dynamodb_exports.get(region, []))
            ]
            return _json({"ExportSummaries": exports}, "application/x-amz-json-1.0", crc=True)
        if target == "DynamoDB_20120810.DescribeExport":
            arn = json.loads(req.body or b"{}").get("ExportArn", "")
            for i, (t, bucket, owner) in enumerate(self.dynamodb_exports.get(region, [])):
                if arn == f"{t}/export/{i:08d}":
                    desc = {"ExportArn": arn, "ExportStatus": "COMPLETED", "TableArn": t, "S3Bucket": bucket}
                    desc["S3BucketOwner"] = owner
                    return _json({"ExportDescription": desc}, "application/x-amz-json-1.0", crc=True)
        return None

    def response(self, req: Request, resp: Response) -> Response:
        if resp.status != 200:
            return resp
        body = req.body or b""
        if self.docdb and b"Action=DescribeGlobalClusters" in body:
            return self._engine(resp, "GlobalClusterIdentifier", "GlobalClusters")
        if self.docdb and b"Action=DescribeDBClusters" in body:
            return self._engine(resp, "DBClusterIdentifier", "DBClusters")
        if self.elasticache_globals and b"Action=DescribeReplicationGroups" in body:
            return self._member_info(resp)
        return resp

    # ------------------------------------------------------------------ S3 Control

    def _mraps(self, req: Request) -> Response:
        from urllib.parse import parse_qs, urlsplit
        from xml.sax.saxutils import escape

        account = next((v for k, v in req.headers.items() if k.lower() == "x-amz-account-id"), "")
        query = parse_qs(urlsplit(req.path).query)
        start = int((query.get("nextToken") or ["0"])[0])
        with self._lock:
            found = list(self.mraps.get(account, []))
        page = found[start : start + self.mrap_page]
        items = []
        for ap in page:
            regions = "".join(
                f"<Region><Bucket>{escape(m['Bucket'])}</Bucket><Region>{m['Region']}</Region>"
                f"<BucketAccountId>{m['BucketAccountId']}</BucketAccountId></Region>"
                for m in ap["Regions"]
            )
            items.append(
                f"<AccessPoint><Name>{escape(ap['Name'])}</Name><Alias>{ap['Alias']}</Alias>"
                f"<CreatedAt>2026-01-01T00:00:00Z</CreatedAt><Status>{ap['Status']}</Status>"
                f"<Regions>{regions}</Regions></AccessPoint>"
            )
        more = f"<NextToken>{start + self.mrap_page}</NextToken>" if start + self.mrap_page < len(found) else ""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ListMultiRegionAccessPointsResult xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">'
            f"<AccessPoints>{''.join(items)}</AccessPoints>{more}</ListMultiRegionAccessPointsResult>"
        )
        return Response(200, {"Content-Type": "application/xml", "x-amz-request-id": "fake"}, body.encode())

    # ------------------------------------------------------------------ AWS Backup

    def _recovery_points(self, req: Request, region: str) -> Response:
        from urllib.parse import unquote

        path = req.path.split("?")[0]
        vault, _, rest = path.removeprefix("/backup-vaults/").partition("/recovery-points/")
        vault, rest = unquote(vault), unquote(rest.strip("/"))
        with self._lock:
            points = self.recovery_points.get((region, vault), [])
            if req.method == "DELETE":
                kept = [p for p in points if p["RecoveryPointArn"] != rest]
                if len(kept) == len(points):
                    return _error(400, "ResourceNotFoundException", f"no recovery point {rest}")
                self.recovery_points[(region, vault)] = kept
                return Response(200, {"Content-Type": "application/json"}, b"{}")
            if req.method == "GET" and not rest:
                return _json({"RecoveryPoints": [dict(p) for p in points]})
        return _error(400, "ValidationException", f"the fake does not serve {req.method} {path}")

    # ------------------------------------------------------------------ Resource Explorer

    def _explorer(self, req: Request, region: str) -> Response:
        op = req.path.split("?")[0].strip("/")
        doc = json.loads(req.body or b"{}") if req.body else {}
        view = f"arn:aws:resource-explorer-2:{region}:{ACCOUNT}:view/default/0001"
        if op == "ListIndexes":
            items = [
                {"Region": r, "Arn": self._index_arn(r), "Type": t} for r, t in sorted(self.explorer_indexes.items())
            ]
            if doc.get("Type"):
                items = [i for i in items if i["Type"] == doc["Type"]]
            return _json({"Indexes": items})
        if region not in self.explorer_indexes:
            return _error(401, "UnauthorizedException", f"no Resource Explorer index in {region}")
        if op == "GetDefaultView":
            return _json({"ViewArn": view} if self.explorer_indexes[region] == "AGGREGATOR" else {})
        if op == "GetView":
            v = {"ViewArn": doc.get("ViewArn", view), "Owner": ACCOUNT, "Scope": f"arn:aws:iam::{ACCOUNT}:root"}
            v["Filters"] = {"FilterString": self.explorer_filter}
            v["IncludedProperties"] = [{"Name": "tags"}] if self.explorer_tags else []
            return _json({"View": v, "Tags": {}})
        if op == "ListSupportedResourceTypes":
            with self._lock:
                types = sorted(({_arn_type(a) for a in self.resources} | EXPLORER_TYPES) - self.explorer_unsupported)
            return _json({"ResourceTypes": [{"Service": t.split(":")[0], "ResourceType": t} for t in types]})
        if op == "ListResources":
            if self.explorer_indexes[region] != "AGGREGATOR":
                return _error(400, "ValidationException", "a local index lists only its own region")
            indexed = set(self.explorer_indexes)
            caller = _caller_account(req)
            with self._lock:
                rows = [
                    (arn, acct)
                    for arn, acct in sorted(self.resources.items())
                    if _arn_type(arn) not in self.explorer_unsupported
                    and (arn.split(":")[3] or region) in indexed
                    and (self.explorer_org_view or acct == caller)
                ]
            start = int(doc.get("NextToken") or 0)
            size = int(doc.get("MaxResults") or 100)
            page = rows[start : start + size]
            tags = _moto_tags(page) if self.explorer_tags else {}

            def props(arn: str) -> list[dict[str, Any]]:
                if not self.explorer_tags:
                    return []
                data = [{"Key": k, "Value": v} for k, v in sorted(tags.get(arn, {}).items())]
                return [{"Name": "tags", "LastReportedAt": "2026-01-01T00:00:00Z", "Data": data}]

            out: dict[str, Any] = {
                "Resources": [
                    {
                        "Arn": arn,
                        "OwningAccountId": acct,
                        "Region": arn.split(":")[3] or "global",
                        "ResourceType": _arn_type(arn),
                        "Service": arn.split(":")[2],
                        "Properties": props(arn),
                    }
                    for arn, acct in page
                ],
                "ViewArn": view,
            }
            if start + size < len(rows):
                out["NextToken"] = str(start + size)
            return _json(out)
        return _error(400, "ValidationException", f"the fake does not serve {op}")

    @staticmethod
    def _index_arn(region: str) -> str:
        return f"arn:aws:resource-explorer-2:{region}:{ACCOUNT}:index/0001"

    # ------------------------------------------------------------------ AWS Config

    def _config(self, op: str, req: Request, region: str) -> Response | None:
        doc = json.loads(req.body or b"{}")
        kind = "application/x-amz-json-1.1"
        if op == "DescribeConfigurationAggregators":
            agg = self.config_aggregator
            if not agg:
                return _json({"ConfigurationAggregators": []}, kind)
            source = {"AccountIds": agg["accounts"], "AllAwsRegions": agg.get("all_regions", True)}
            name = agg["name"]
            arn = f"arn:aws:config:{region}:{ACCOUNT}:config-aggregator/{name}"
            return _json(
                {
                    "ConfigurationAggregators": [
                        {
                            "ConfigurationAggregatorName": name,
                            "ConfigurationAggregatorArn": arn,
                            "AccountAggregationSources": [source],
                        }
                    ]
                },
                kind,
            )
        if op == "DescribeConfigurationRecorders":
            if region not in self.config_recording:
                return _json({"ConfigurationRecorders": []}, kind)
            everything = region not in self.config_some_types
            group: dict[str, Any] = {"allSupported": everything, "includeGlobalResourceTypes": everything}
            if not everything:
                group["resourceTypes"] = ["AWS::S3::Bucket"]
            role = f"arn:aws:iam::{ACCOUNT}:role/config"
            return _json(
                {"ConfigurationRecorders": [{"name": "default", "roleARN": role, "recordingGroup": group}]}, kind
            )
        if op == "DescribeConfigurationRecorderStatus":
            status = [{"name": "default", "recording": True}] if region in self.config_recording else []
            return _json({"ConfigurationRecordersStatus": status}, kind)
        if op in ("SelectResourceConfig", "SelectAggregateResourceConfig"):
            aggregate = op == "SelectAggregateResourceConfig"
            where = re.search(r"accountId\s*=\s*'(\d+)'", str(doc.get("Expression", "")))
            with self._lock:
                rows = []
                for arn, acct in sorted(self.resources.items()):
                    arn_region = arn.split(":")[3]
                    if where and acct != where.group(1):
                        continue
                    if not aggregate and (arn_region or "us-east-1") != region:
                        continue  # a region's recorder records its own region (global types in us-east-1)
                    if not aggregate and region not in self.config_recording:
                        continue
                    if (
                        aggregate
                        and (arn_region or "us-east-1") not in self.config_recording
                        and not (self.config_aggregator or {}).get("all_regions", True)
                    ):
                        continue
                    rows.append(
                        json.dumps(
                            {
                                "arn": arn,
                                "resourceType": _arn_type(arn),
                                "awsRegion": arn_region or "global",
                                "resourceId": arn.rsplit("/", 1)[-1],
                                "accountId": acct,
                            }
                        )
                    )
            start = int(doc.get("NextToken") or 0)
            page = rows[start : start + 100]
            if re.search(r"\btags\b", str(doc.get("Expression", "")).split("WHERE")[0]):
                found = [json.loads(r) for r in page]
                tags = _moto_tags([(r["arn"], r["accountId"]) for r in found])
                for r in found:
                    r["tags"] = [
                        {"key": k, "value": v, "tag": f"{k}={v}"} for k, v in sorted(tags.get(r["arn"], {}).items())
                    ]
                page = [json.dumps(r) for r in found]
            out: dict[str, Any] = {"Results": page, "QueryInfo": {"SelectFields": [{"Name": "arn"}]}}
            if start + 100 < len(rows):
                out["NextToken"] = str(start + 100)
            return _json(out, kind)
        return None

    # ------------------------------------------------------------------ ElastiCache, RDS engines

    def _global_datastores(self) -> Response:
        members_xml = []
        for gid, members in sorted(self.elasticache_globals.items()):
            ms = "".join(
                f"<GlobalReplicationGroupMember><ReplicationGroupId>{g}</ReplicationGroupId>"
                f"<ReplicationGroupRegion>{r}</ReplicationGroupRegion><Role>{role}</Role>"
                "<Status>associated</Status></GlobalReplicationGroupMember>"
                for g, r, role in members
            )
            members_xml.append(
                f"<GlobalReplicationGroup><GlobalReplicationGroupId>{gid}</GlobalReplicationGroupId>"
                f"<Status>available</Status><Engine>redis</Engine><Members>{ms}</Members>"
                f"<ARN>arn:aws:elasticache::{ACCOUNT}:globalreplicationgroup:{gid}</ARN></GlobalReplicationGroup>"
            )
        body = (
            '<DescribeGlobalReplicationGroupsResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/">'
            f"<DescribeGlobalReplicationGroupsResult><GlobalReplicationGroups>{''.join(members_xml)}"
            "</GlobalReplicationGroups></DescribeGlobalReplicationGroupsResult>"
            "<ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></DescribeGlobalReplicationGroupsResponse>"
        )
        return Response(200, {"Content-Type": "text/xml"}, body.encode())

    def _member_info(self, resp: Response) -> Response:
        text = resp.body.decode()
        for gid, members in self.elasticache_globals.items():
            for group, _, role in members:
                info = (
                    f"<GlobalReplicationGroupInfo><GlobalReplicationGroupId>{gid}</GlobalReplicationGroupId>"
                    f"<GlobalReplicationGroupMemberRole>{role}</GlobalReplicationGroupMemberRole>"
                    "</GlobalReplicationGroupInfo>"
                )
                tag = f"<ReplicationGroupId>{group}</ReplicationGroupId>"
                text = text.replace(tag, tag + info, 1)
        return Response(resp.status, resp.headers, text.encode())

    def _engine(self, resp: Response, id_tag: str, list_tag: str) -> Response:
        text = resp.body.decode()

        def fix(m: re.Match[str]) -> str:
            block = m.group(0)
            ident = re.search(f"<{id_tag}>([^<]*)</{id_tag}>", block)
            if ident and ident.group(1) in self.docdb:
                block = re.sub(r"<Engine>[^<]*</Engine>", "<Engine>docdb</Engine>", block, count=1)
            return block

        member = "GlobalClusterMember" if list_tag == "GlobalClusters" else "DBCluster"
        # top-level members only: a global cluster's own member list nests <GlobalClusterMember> too
        pattern = (
            rf"<{member}><{id_tag}>.*?(?=<{member}><{id_tag}>|</{list_tag}>)"
            if member != "DBCluster"
            else (r"<DBCluster>.*?</DBCluster>")
        )
        text = re.sub(pattern, fix, text, flags=re.S)
        return Response(resp.status, resp.headers, text.encode())

    # ------------------------------------------------------------------ OpenSearch, Bedrock

    def _connections(self, region: str) -> Response:
        conns = []
        for i, (local, remote, remote_region, mode) in enumerate(self.opensearch_connections.get(region, [])):
            conns.append(
                {
                    "LocalDomainInfo": {
                        "AWSDomainInformation": {"OwnerId": ACCOUNT, "DomainName": local, "Region": region}
                    },
                    "RemoteDomainInfo": {
                        "AWSDomainInformation": {"OwnerId": ACCOUNT, "DomainName": remote, "Region": remote_region}
                    },
                    "ConnectionId": f"conn-{i:04d}",
                    "ConnectionAlias": f"{local}-to-{remote}",
                    "ConnectionStatus": {"StatusCode": "ACTIVE"},
                    "ConnectionMode": mode,
                }
            )
        return _json({"Connections": conns})

    def _profiles(self, region: str, path: str) -> Response:
        if "typeEquals=SYSTEM_DEFINED" in path:
            return _json({"inferenceProfileSummaries": []})
        summaries = [
            {
                "inferenceProfileName": name,
                "inferenceProfileArn": f"arn:aws:bedrock:{region}:{ACCOUNT}:application-inference-profile/{name}",
                "inferenceProfileId": name,
                "models": [{"modelArn": m} for m in models],
                "status": "ACTIVE",
                "type": "APPLICATION",
            }
            for name, models in self.inference_profiles.get(region, [])
        ]
        return _json({"inferenceProfileSummaries": summaries})
