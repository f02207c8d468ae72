"""Google Cloud resources in Terraform plans (google and google-beta): modelled footprints, and the rest.

A resource's `location`, `region` or `zone` (or the provider's default region and
zone); locations nested in blocks for the types that keep data in several places
(Spanner instance configurations, Bigtable clusters, Pub/Sub storage policies,
Secret Manager replicas); the planned parent for child resources (a BigQuery
table lives in its dataset); `global` for Google's global resources.
"""

from __future__ import annotations

from ...model import Location
from ...terraform.adapter import (
    Change,
    Extractor,
    Link,
    LinkExtractor,
    PlanAdapter,
    blocks,
    sub_blocks,
)
from .catalog import spanner_config
from .readers import zone_region

PROVIDER = "gcp"
GLOBAL_LOCATION = "global"


def normalise(code: str) -> str:
    """Google accepts `EUROPE-WEST4` for europe-west4, and self-links (`projects/p/zones/us-central1-a`)."""
    return code.rsplit("/", 1)[-1].lower()


def gcp_region(a: PlanAdapter, ch: Change, attr: str = "region", role: str = "primary") -> Location:
    value = a.own_or_provider(ch, attr, "region")
    if not value.known:
        return Location(None, role=role, detail=value.why)
    return Location(normalise(str(value.value)), role=role, detail=value.why)


def gcp_zone(a: PlanAdapter, ch: Change, attr: str = "zone", role: str = "primary") -> Location:
    value = a.own_or_provider(ch, attr, "zone")
    if not value.known:
        return Location(None, role=role, detail=value.why)
    zone = normalise(str(value.value))
    return Location(zone_region(zone), role=role, zone=zone, detail=value.why)


def gcp_location(a: PlanAdapter, ch: Change, attr: str = "location", role: str = "primary") -> Location:
    """A `location` that may be a region, a zone, a dual-region or a multi-region."""
    value = ch.text(attr)
    if value:
        code = value.lower()
        region = zone_region(code)
        if region:
            return Location(region, role=role, zone=code, detail=f"{attr} {value}")
        return Location(code, role=role, detail=f"{attr} {value}")
    if ch.is_unknown(attr):
        return Location(None, role=role, detail=f"{attr} is computed: known only after apply")
    return gcp_region(a, ch, "region", role)


def _gcs_bucket(a: PlanAdapter, ch: Change) -> list[Location]:
    loc = gcp_location(a, ch)
    placements = blocks(ch, "custom_placement_config")
    if not placements:
        return [loc]
    locs: list[Location] = []
    for cfg, _, _ in placements:
        data = cfg.get("data_locations")
        if isinstance(data, list) and data and all(isinstance(d, str) for d in data):
            locs.extend(Location(d.lower(), detail=f"custom dual-region data location {d}") for d in data)
        else:
            locs.append(Location(None, detail="custom_placement_config data_locations are computed: unknown"))
    return locs


def _gce_zonal(a: PlanAdapter, ch: Change) -> list[Location]:
    return [gcp_zone(a, ch)]


def _gce_region_disk(a: PlanAdapter, ch: Change) -> list[Location]:
    locs = [gcp_region(a, ch)]
    for z in ch.get("replica_zones") or ():
        if isinstance(z, str):
            zone = z.rsplit("/", 1)[-1].lower()
            locs.append(Location(zone_region(zone), role="replica", zone=zone, detail="replica zone"))
    return locs


def _gce_snapshot(a: PlanAdapter, ch: Change) -> list[Location]:
    stored = ch.get("storage_locations")
    if isinstance(stored, list) and stored:
        return [Location(str(s).lower(), role="backup", detail="storage_locations") for s in stored]
    return [Location(None, role="backup", detail="storage_locations not set: Google picks a multi-region at apply")]


def _cloudsql(a: PlanAdapter, ch: Change) -> list[Location]:
    locs = [gcp_region(a, ch)]
    for settings, smark, sexpr in blocks(ch, "settings"):
        for backup, _, _ in sub_blocks(settings, smark, sexpr, "backup_configuration"):
            where = backup.get("location")
            if backup.get("enabled") is not False and isinstance(where, str) and where:
                locs.append(Location(where.lower(), role="backup", detail="backup_configuration location"))
    masters = a.references(ch, a.expr(ch, "master_instance_name"), "google_sql_database_instance")
    if masters:
        loc = Location(locs[0].region, role="replica", detail=f"read replica {ch.address}")
        a.link(Link(ch, loc, attach_to=masters))
    return locs


def _gcp_located(attr: str = "location") -> Extractor:
    def extract(a: PlanAdapter, ch: Change) -> list[Location]:
        return [gcp_location(a, ch, attr)]

    return extract


def _gcp_regional(a: PlanAdapter, ch: Change) -> list[Location]:
    return [gcp_region(a, ch)]


def _spanner(a: PlanAdapter, ch: Change) -> list[Location]:
    config = ch.text("config")
    if config:
        # `regional-<region>` or a dual-/multi-region configuration: the catalog knows its members
        return [Location(spanner_config(config), detail=f"instance config {config}")]
    if ch.is_unknown("config"):
        return [Location(None, detail="config is computed: known only after apply")]
    return [Location(None, detail="no instance config in the plan")]


def _bigtable(a: PlanAdapter, ch: Change) -> list[Location]:
    """Every cluster of an instance holds a full copy of its tables (replication)."""
    locs: list[Location] = []
    for i, (cluster, mark, cexpr) in enumerate(blocks(ch, "cluster")):
        role = "primary" if i == 0 else "replica"
        zone = cluster.get("zone")
        label = f"cluster {cluster.get('cluster_id') or i}"
        if isinstance(zone, str) and zone:
            code = zone.lower()
            locs.append(Location(zone_region(code), role=role, zone=code, detail=f"{label} zone {zone}"))
        elif mark.get("zone") and "zone" in cexpr:
            locs.append(Location(None, role=role, detail=f"{label}: zone is computed, unknown"))
        else:  # not set: the provider's default zone
            value = a.provider_value(ch.provider_key, "zone", ch.provider)
            if value.known:
                code = str(value.value).lower()
                locs.append(Location(zone_region(code), role=role, zone=code, detail=f"{label}: {value.why}"))
            else:
                locs.append(Location(None, role=role, detail=f"{label}: {value.why}"))
    return locs or [Location(None, detail="no cluster block in the plan")]


def _pubsub_topic(a: PlanAdapter, ch: Change) -> list[Location]:
    """Messages are stored only in the regions a storage policy allows; without one, in any region."""
    locs: list[Location] = []
    for policy, _mark, _ in blocks(ch, "message_storage_policy"):
        regions = policy.get("allowed_persistence_regions")
        if isinstance(regions, list) and regions and all(isinstance(r, str) for r in regions):
            locs.extend(Location(r.lower(), detail="message_storage_policy allowed region") for r in regions)
        else:
            locs.append(Location(None, detail="message_storage_policy regions are computed: unknown"))
    return locs or [
        Location(
            None,
            detail="no message_storage_policy: Pub/Sub may store messages in any region "
            "(unless an organisation policy restricts it)",
        )
    ]


def _secret(a: PlanAdapter, ch: Change) -> list[Location]:
    """Secret Manager: user-managed replicas are where they say; automatic replication lets Google choose."""
    locs: list[Location] = []
    for rep, rmark, rexpr in blocks(ch, "replication"):
        if rep.get("automatic") is True or rep.get("auto"):
            locs.append(Location("global", detail="automatic replication: Google chooses the regions"))
        for managed, mmark, mexpr in sub_blocks(rep, rmark, rexpr, "user_managed"):
            for i, (replica, _, _) in enumerate(sub_blocks(managed, mmark, mexpr, "replicas")):
                where = replica.get("location")
                role = "primary" if i == 0 else "replica"
                if isinstance(where, str) and where:
                    locs.append(Location(where.lower(), role=role, detail="user-managed replica"))
                else:
                    locs.append(Location(None, role=role, detail="user-managed replica location is computed"))
    return locs or [Location(None, detail="no replication block in the plan")]


def _redis(a: PlanAdapter, ch: Change) -> list[Location]:
    """Memorystore for Redis: its region, and the zones of its primary and (Standard tier) replica."""
    locs = [gcp_region(a, ch)]
    for attr, role in (("location_id", "primary"), ("alternative_location_id", "replica")):
        zone = ch.text(attr)
        if zone:
            code = zone.lower()
            locs.append(Location(zone_region(code), role=role, zone=code, detail=attr))
    return locs


def generic(a: PlanAdapter, ch: Change) -> list[Location]:
    """Its own `location` (region, zone, dual- or multi-region), `region` or `zone` (the provider's
    defaults where it leaves them unset); without any, the planned parent it refers to."""
    after, unknown = ch.after, ch.unknown
    if "location" in after or "location" in unknown:
        return [gcp_location(a, ch)]
    if "region" in after or "region" in unknown:
        return [gcp_region(a, ch)]
    if "zone" in after or "zone" in unknown:
        return [gcp_zone(a, ch)]
    if "location_id" in after or "location_id" in unknown:
        return [gcp_location(a, ch, "location_id")]
    return a.inherit(ch, f"{ch.type} has no location argument")


#: Terraform type -> (our kind, how to find its locations). The README lists these.
TYPES: dict[str, tuple[str, Extractor]] = {
    "google_storage_bucket": ("storage.bucket", _gcs_bucket),
    "google_compute_instance": ("compute.instance", _gce_zonal),
    "google_compute_disk": ("compute.disk", _gce_zonal),
    "google_compute_region_disk": ("compute.disk", _gce_region_disk),
    "google_compute_snapshot": ("compute.snapshot", _gce_snapshot),
    "google_sql_database_instance": ("cloudsql.instance", _cloudsql),
    "google_bigquery_dataset": ("bigquery.dataset", _gcp_located()),
    "google_container_cluster": ("gke.cluster", _gcp_located()),
    "google_cloud_run_service": ("run.service", _gcp_located()),
    "google_cloud_run_v2_service": ("run.service", _gcp_located()),
    "google_cloudfunctions2_function": ("functions.function", _gcp_located()),
    "google_cloudfunctions_function": ("functions.function", _gcp_regional),
    "google_spanner_instance": ("spanner.instance", _spanner),
    "google_bigtable_instance": ("bigtable.instance", _bigtable),
    "google_pubsub_topic": ("pubsub.topic", _pubsub_topic),
    "google_secret_manager_secret": ("secretmanager.secret", _secret),
    "google_redis_instance": ("redis.instance", _redis),
    "google_firestore_database": ("firestore.database", _gcp_located("location_id")),
    "google_kms_key_ring": ("kms.keyring", _gcp_located()),
    "google_artifact_registry_repository": ("artifactregistry.repository", _gcp_located()),
}

LINKS: dict[str, LinkExtractor] = {}
