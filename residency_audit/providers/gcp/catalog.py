"""Google Cloud location codes the catalog qualifies."""

from __future__ import annotations


def spanner_config(config: str) -> str:
    """The catalog code of a Spanner instance configuration: `spanner/<config>`.

    Spanner's configuration names collide with other products' location codes
    (Cloud Storage EUR7 is London and Frankfurt, Spanner eur7 Milan, Frankfurt
    and Turin), so the catalog qualifies them. Takes the API's full name
    (`projects/p/instanceConfigs/nam3`) or the bare one (`nam3`, as Terraform's
    `google_spanner_instance.config` holds it); resolve the result with
    `Catalog.resolve("gcp", ...)`.
    """
    return "spanner/" + config.strip().rsplit("/", 1)[-1].lower()
