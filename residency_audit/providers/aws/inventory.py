"""AWS inventory paths: every resource of every type in an account, through the inventory
services AWS provides, before the per-service readers add the data footprint.

- `explorer`: AWS Resource Explorer's aggregator index, listed with `ListResources` through
  the default view (`Search` stops counting at 1,000 results in all, ListResources pages
  through everything the view holds);
- `config`: AWS Config, `SelectAggregateResourceConfig` over an aggregator that covers the
  account in every region, else `SelectResourceConfig` per region where a recorder runs;
- `tagging`: the Resource Groups Tagging API, `GetResources` per region;
- `services`: the per-service readers alone.

`auto` takes the first usable of explorer, config, tagging, services. What a path cannot see
in the account makes the scan partial (a gap, service `inventory`): regions without an index
or a recorder that records everything, a filtered view, never-tagged resources (Tagging API),
services without a reader (`services`). What Resource Explorer and Config do not index by
their nature (types they do not support) is stated in a note, and the readers list their kinds
in every region the path does not cover.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..base import ReadOnlyViolation, error_code, one_line
from .client import pages

MODES = ("auto", "explorer", "config", "tagging", "services")
AUTO_ORDER = ("explorer", "config", "tagging")

#: ARN resources without a type segment: the service's one resource type.
_UNTYPED = {"s3": "bucket", "sqs": "queue", "sns": "topic"}
#: The `Gap.code` of what an inventory path cannot see (the scan is partial, and says why).
BLIND_SPOT = "InventoryBlindSpot"
#: Global ARNs (no region) are located where the global control plane is.
GLOBAL_REGION = "aws-global"

WORDS = {
    "explorer": "AWS Resource Explorer",
    "config": "AWS Config",
    "tagging": "the Resource Groups Tagging API",
    "services": "the per-service readers",
}


class Unusable(Exception):
    """The path cannot be used for this account (not set up, or not allowed): `auto` tries the next."""


def arn_type(arn: str) -> str:
    """`service:type` of an ARN, the names Resource Explorer uses (`rds:db`, `ec2:instance`)."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "unknown:resource"
    service, resource = parts[2], parts[5]
    if service == "sns" and ":" in resource:  # TOPIC:SUBSCRIPTION-ID
        return "sns:subscription"
    cut = min((i for i in (resource.find("/"), resource.find(":")) if i >= 0), default=-1)
    if cut > 0:
        return f"{service}:{resource[:cut]}"
    return f"{service}:{_UNTYPED.get(service, 'resource')}"


_GENERATED = re.compile(r"^[0-9a-f-]{16,}(-\d+)?$")


def arn_name(arn: str) -> str:
    """The resource's name from its ARN: `service/storefront/8fe1e1...` (App Runner, MSK: a name
    then a generated id) is `storefront`."""
    resource = arn.split(":", 5)[-1]
    segments = resource.split("/")
    if len(segments) >= 3 and _GENERATED.match(segments[-1]) and segments[-2]:
        return segments[-2]
    for sep in ("/", ":"):
        resource = resource.rsplit(sep, 1)[-1] or resource
    return resource


@dataclass(frozen=True, slots=True)
class Item:
    """One resource an inventory listed: enough to judge it at its region."""

    arn: str
    region: str  # "" for a global ARN
    type: str  # `service:type`, from the ARN
    name: str
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def kind(self) -> str:
        return self.type.replace(":", ".", 1)


@dataclass
class Listing:
    """What one path saw of one account."""

    path: str
    items: dict[str, Item] = field(default_factory=dict)
    #: Enabled regions this path did not see (no index, no recorder): readers run there in full.
    blind: dict[str, str] = field(default_factory=dict)
    #: What the path cannot see in this account, in words: the scan is partial (one `inventory` gap).
    cannot_see: str = ""
    #: What the path by its nature does not index (types an inventory service does not support),
    #: stated as a note: the readers list their kinds wherever the path does not.
    limits: str = ""
    #: Types the path indexes (Resource Explorer), or None: then readers run everywhere.
    indexed: frozenset[str] | None = None
    #: The items carry the tags the path read (a Resource Explorer view that includes tags, the
    #: Tagging API, Config's `tags` column): readers take them from here instead of asking per item.
    tagged: bool = False

    def add(self, arn: str, name: str = "", tags: Iterable[tuple[str, str]] = ()) -> None:
        """An item at its ARN's region (the inventories' own region field says "global" or the
        index's region for global resources: the ARN does not)."""
        parts = arn.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn":
            return
        self.items.setdefault(arn, Item(arn, parts[3], arn_type(arn), name or arn_name(arn), tuple(tags)))

    def tags_of(self, arn: str) -> dict[str, str] | None:
        """The tags this listing read for `arn`, or None when it cannot say (the reader asks).
        The Tagging API lists every resource that has or had tags, so one it did not list in a
        region it read has none; Explorer and Config say nothing of what they did not list."""
        if not self.tagged:
            return None
        item = self.items.get(arn)
        if item is not None:
            return dict(item.tags)
        region = arn.split(":", 5)[3:4]
        # a global ARN (an S3 bucket) is listed from its bucket's region, which may be out of scope
        if self.path == "tagging" and region and region[0] and region[0] not in self.blind:
            return {}
        return None

    def seen(self) -> dict[str, set[str]]:
        """Region -> the types seen there."""
        out: dict[str, set[str]] = {}
        for it in self.items.values():
            out.setdefault(it.region, set()).add(it.type)
        return out


Client = Callable[[str, str], Any]


def explorer(client: Client, account: str, home: str, regions: list[str]) -> Listing:
    """Resource Explorer: the account's aggregator index, through its default view."""
    rex = client("resource-explorer-2", home)
    indexes = list(pages(rex, "list_indexes", "Indexes"))
    aggregator = next((i for i in indexes if i.get("Type") == "AGGREGATOR"), None)
    if aggregator is None:
        raise Unusable("no aggregator index (Resource Explorer is not set up for every region)")
    where = str(aggregator.get("Region") or home)
    agg = client("resource-explorer-2", where)
    view = str(agg.get_default_view().get("ViewArn") or "")
    if not view:
        raise Unusable(f"no default view in {where}, the aggregator index's region")
    listing = Listing("explorer")
    shown = agg.get_view(ViewArn=view).get("View") or {}
    filters = (shown.get("Filters") or {}).get("FilterString") or ""
    listing.tagged = any(p.get("Name") == "tags" for p in shown.get("IncludedProperties") or ())
    supported = frozenset(
        f"{t.get('ResourceType', '')}" for t in pages(agg, "list_supported_resource_types", "ResourceTypes")
    )
    listing.indexed = supported
    indexed_regions = {str(i.get("Region")) for i in indexes}
    for region in regions:
        if region not in indexed_regions:
            listing.blind[region] = "no Resource Explorer index in this region"
    for r in pages(agg, "list_resources", "Resources", ViewArn=view, MaxResults=1000):
        if str(r.get("OwningAccountId") or account) != account:
            continue
        tags: list[tuple[str, str]] = []
        for prop in r.get("Properties") or ():
            if prop.get("Name") == "tags":
                tags += ((str(t.get("Key", "")), str(t.get("Value", ""))) for t in prop.get("Data") or () if "Key" in t)
        listing.add(str(r.get("Arn", "")), tags=tags)
    listing.limits = (
        f"AWS Resource Explorer indexes the {len(supported)} resource types it supports: a type it does not "
        "index is seen only where a reader lists it (the readers of such types run in every region)"
    )
    if filters:
        listing.cannot_see = (
            f"Resource Explorer's default view filter '{filters}' hides every resource it does not match"
        )
    return listing


_SELECT = "SELECT arn, resourceType, awsRegion, resourceName, resourceId, tags"


def config(client: Client, account: str, home: str, regions: list[str]) -> Listing:
    """AWS Config: one aggregate query when an aggregator covers the account everywhere, else
    one query per region whose recorder is running."""
    cfg = client("config", home)
    listing = Listing("config", tagged=True)
    aggregator = ""
    for a in pages(cfg, "describe_configuration_aggregators", "ConfigurationAggregators"):
        org = a.get("OrganizationAggregationSource") or {}
        if org and (org.get("AllAwsRegions") or set(regions) <= set(org.get("AwsRegions") or ())):
            aggregator = str(a["ConfigurationAggregatorName"])
            break
        for src in a.get("AccountAggregationSources") or ():
            covers = src.get("AllAwsRegions") or set(regions) <= set(src.get("AwsRegions") or ())
            if account in (src.get("AccountIds") or ()) and covers:
                aggregator = str(a["ConfigurationAggregatorName"])
        if aggregator:
            break

    def rows(answer: Iterable[Any]) -> None:
        for text in answer:
            row = json.loads(text) if isinstance(text, str) else text
            if row.get("accountId", account) != account:
                continue
            tags = [(str(t.get("key", "")), str(t.get("value", ""))) for t in row.get("tags") or () if "key" in t]
            listing.add(str(row.get("arn", "")), str(row.get("resourceName") or ""), tags)

    if aggregator:
        expression = f"{_SELECT}, accountId WHERE accountId = '{account}'"
        rows(
            pages(
                cfg,
                "select_aggregate_resource_config",
                "Results",
                Expression=expression,
                ConfigurationAggregatorName=aggregator,
            )
        )
    else:
        recording = 0
        for region in regions:
            regional = client("config", region)
            status = regional.describe_configuration_recorder_status().get("ConfigurationRecordersStatus") or ()
            if not any(s.get("recording") for s in status):
                listing.blind[region] = "no AWS Config recorder running in this region"
                continue
            recorders = regional.describe_configuration_recorders().get("ConfigurationRecorders") or ()
            group = next((r.get("recordingGroup") or {} for r in recorders), {})
            if not group.get("allSupported", False):
                listing.blind[region] = "the AWS Config recorder here records only some resource types"
                continue
            recording += 1
            rows(pages(regional, "select_resource_config", "Results", Expression=_SELECT))
        if not recording:
            raise Unusable("no aggregator covers this account and no recorder records everything in any region")
    listing.limits = (
        "AWS Config lists the resource types it supports"
        + (
            f" and aggregator {aggregator} collects (as complete as the account's recorders, which it does not show)"
            if aggregator
            else ""
        )
        + ": a type it does not record is seen only where a reader lists it (every reader runs in every region)"
    )
    return listing


def tagging(client: Client, account: str, home: str, regions: list[str]) -> Listing:
    listing = Listing("tagging", tagged=True)
    for region in regions:
        api = client("resourcegroupstaggingapi", region)
        for m in pages(api, "get_resources", "ResourceTagMappingList", ResourcesPerPage=100):
            arn = str(m.get("ResourceARN", ""))
            if arn.split(":", 5)[3:4] not in ([region], [""]):
                continue  # listed from another region's endpoint: that region lists it
            tags = tuple((str(t.get("Key", "")), str(t.get("Value", ""))) for t in m.get("Tags") or ())
            listing.add(arn, tags=tags)
    listing.cannot_see = (
        "the Resource Groups Tagging API lists only resources that have or had tags: never-tagged resources "
        "are not seen unless a reader lists them"
    )
    return listing


PATHS: dict[str, Callable[[Client, str, str, list[str]], Listing]] = {
    "explorer": explorer,
    "config": config,
    "tagging": tagging,
}


def take(
    mode: str, client: Client, account: str, home: str, regions: list[str], note: Callable[[str], None]
) -> Listing:
    """The listing of the path `mode` asks for; with `auto`, of the first usable one. An
    explicitly chosen path that fails raises (the caller makes it a gap); `auto` notes why
    each path was passed over and falls back to the readers alone."""
    if mode == "services":
        return _services()
    for path in AUTO_ORDER if mode == "auto" else (mode,):
        try:
            return PATHS[path](client, account, home, regions)
        except Unusable as exc:
            if mode != "auto":
                raise
            note(f"aws: account {account}: {WORDS[path]} not used: {exc}")
        except Exception as exc:
            if mode != "auto" or isinstance(exc, ReadOnlyViolation):
                raise
            note(f"aws: account {account}: {WORDS[path]} not usable ({error_code(exc)}: {one_line(exc, 160)})")
    return _services()


def _services() -> Listing:
    return Listing(
        "services",
        cannot_see="no inventory service was used: only the services with a reader were listed, resources of "
        "every other service are not seen",
    )
