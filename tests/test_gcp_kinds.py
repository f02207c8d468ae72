"""Google Cloud kinds are declared once (`providers/gcp/kinds.py`): everything else the tool
knows about a kind (Terraform types, category, reader, parser, Asset Inventory types, the
fake's builder, the allow-list) must agree with the declaration."""

from __future__ import annotations

import re

import pytest

from residency_audit.kinds import classify
from residency_audit.providers import api
from residency_audit.providers.gcp import readers
from residency_audit.providers.gcp.client import READ_OPERATIONS, ROUTES, route_of
from residency_audit.providers.gcp.kinds import ASSET_TYPES, KINDS, SERVICES, GcpKind, read_operations
from residency_audit.providers.gcp.terraform import TYPES
from residency_emulator.gcp import _ASSET_VIEWS, GcpEmulator

_IDS = [k.name for k in KINDS]


def test_the_provider_api_serves_the_declarations() -> None:
    gcp = api("gcp")
    assert gcp.kinds() == KINDS and gcp.read_operations() == read_operations()
    assert len({k.name for k in KINDS}) == len(KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=_IDS)
def test_terraform_types_are_exactly_those_the_gate_maps_to_the_kind(kind: GcpKind) -> None:
    assert set(kind.terraform) == {t for t, (name, _) in TYPES.items() if name == kind.name}


@pytest.mark.parametrize("kind", KINDS, ids=_IDS)
def test_category_is_the_classification_tables(kind: GcpKind) -> None:
    """The scan sets the declared category; the classification table (used when a record has
    none, and by the gate for the kind's Terraform types) must say the same."""
    assert kind.category == classify("gcp", kind.name).category
    for tf_type in kind.terraform:
        assert classify("gcp", tf_type).category == kind.category, tf_type


@pytest.mark.parametrize("kind", KINDS, ids=_IDS)
def test_reader_parser_and_seed_exist(kind: GcpKind) -> None:
    assert callable(getattr(readers, kind.reader)), kind.reader
    assert callable(getattr(readers, kind.parser)), kind.parser
    assert callable(getattr(GcpEmulator, kind.seed)), kind.seed
    assert kind.reads and kind.doc and kind.asset_types
    assert kind.service in SERVICES


@pytest.mark.parametrize("kind", KINDS, ids=_IDS)
def test_each_read_is_on_the_allow_list_and_names_a_permission(kind: GcpKind) -> None:
    for op in kind.reads:
        assert READ_OPERATIONS[op.key] == op.permission
        assert re.fullmatch(r"[a-z]+(\.[a-zA-Z]+){2,}", op.permission), op.permission
        assert op.http == "GET" and op.path.startswith("^/") and op.path.endswith("$")


def test_the_guard_matches_the_paths_the_readers_request() -> None:
    """A sample path per route (one segment per pattern placeholder) matches that route and no other."""
    for route in ROUTES:
        sample = (
            route.path.pattern.strip("^$")
            .replace("[^/:]+", "x1")
            .replace("(projects|folders|organizations)", "projects")
            .replace("\\.", ".")
        )
        assert route_of("GET", sample, route.service) is route, sample
        assert route_of("POST", sample, route.service) is None and route_of("DELETE", sample, route.service) is None
        # Paths repeat across APIs (Spanner and Cloud SQL list `/v1/projects/P/instances`): a request
        # that does not name its API is refused unless the path is one API's alone.
        owners = {r.service for r in ROUTES if r.path.match(sample)}
        assert route_of("GET", sample) is (route if len(owners) == 1 else None), sample


def test_asset_inventory_types_derive_from_the_kinds_and_the_fake_serves_one_per_kind() -> None:
    assert set(ASSET_TYPES.values()) == {k.name for k in KINDS}
    served = {asset_type for asset_type, *_ in _ASSET_VIEWS}
    assert served <= set(ASSET_TYPES)
    assert {ASSET_TYPES[t] for t in served} == {k.name for k in KINDS}


def test_the_google_cloud_page_names_every_kind() -> None:
    """docs/clouds/gcp.md's table of what is read: one row names each kind."""
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "clouds" / "gcp.md").read_text("utf-8")
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    for k in KINDS:
        assert any(f"`{k.name}`" in row.split("|")[1] for row in rows), k.name
