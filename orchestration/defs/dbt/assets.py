"""The dbt project as assets: staging, intermediate, marts, the KPI table and the seeds."""

import hashlib
import json
import shutil
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from expectations.runner import warm_up
from kzdw.settings import Settings
from orchestration.lib.automation import after_upstream_updates
from orchestration.lib.dbt import (
    DUCKDB_OUTPUT,
    dbt_project,
    environment,
    invocation_folder,
    keep_parse,
    manifest_path,
    output_of,
    run_dbt,
    spark_table_folder,
    target_args,
)
from orchestration.lib.progress import progress_log
from orchestration.lib.warehouse import (
    WarehouseResource,
    spark_turn,
    tag_engine,
    warehouse_slot,
)
from sources import lake
from sources.published import Table, publish, tables_of


class KzdwDbtTranslator(DagsterDbtTranslator):
    """Asset key = [schema, table] of the DuckDB object; group = source system for staging,
    else the layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        name = dbt_resource_props.get("alias") or dbt_resource_props["name"]
        return dg.AssetKey([dbt_resource_props["schema"], name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        if len(fqn) > 2 and fqn[1] == "staging":
            return fqn[2]
        return fqn[1] if len(fqn) > 1 else None

    def get_asset_spec(
        self,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        # The audit tables are written by every load, not by one asset: a model reading them
        # (the KPI revision history) is rebuilt with its other inputs, not waited on for them.
        deps = [dep for dep in spec.deps if dep.asset_key.path[0] != "audit"]
        return spec.replace_attributes(deps=deps)

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        return after_upstream_updates()


translator = KzdwDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=manifest_path(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    name="kzdw_dbt_models",
)
def kzdw_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """`dbt build` of the selected models with their data tests (unit tests run in CI, not on
    every load), on the deployment's engine (KZDW_ENGINE): DuckDB builds them in the
    warehouse file, holding the warehouse's writer slot throughout; Spark builds them from the
    lake, holding the slot only to bring the lake up to date before and to publish the marts
    and seeds into the warehouse after (`sources.published`), so that loads go on while Spark
    computes; one Spark build of the deployment at a time (`spark_turn`)."""
    settings = warehouse.settings
    engine = settings.engine
    tag_engine(context, engine)
    progress_log.info("dbt build on %s: staging, marts, KPIs and their tests", engine)
    # The KPI checks after the build need Great Expectations: import it while dbt works.
    threading.Thread(target=warm_up, name="gx-warm-up", daemon=True).start()
    step = context.get_step_execution_context().step.key
    if engine == "duckdb":
        with warehouse_slot(context.instance, context.run_id, f"{step}[build]", context.log):
            yield from _build(context, dbt, settings)
        return
    with spark_turn(settings, context.log):
        events, failure = _build_on_spark(context, dbt, warehouse, step)
    yield from events
    if failure is not None:
        raise failure


def _build_on_spark(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    step: str,
) -> tuple[list[Any], Exception | None]:
    """The lake brought up to date, the build on Spark, the publish: (the build's events, held
    back until the publish, and the build's failure if it failed)."""
    settings = warehouse.settings
    with warehouse_slot(context.instance, context.run_id, f"{step}[lake]", context.log):
        con = warehouse.connect(read_only=True)
        try:
            synced = lake.sync(con, settings.lake)
            lake.write_audit(con, settings.lake)
        finally:
            con.close()
    for part in synced.written:
        progress_log.info("lake: wrote %s, a load the lake lacked", part)
    # The events wait for the publish: an asset is the DuckDB table, materialised once the
    # marts are in the warehouse. A failed model still lets what was built be published.
    events, failure = [], None
    try:
        events.extend(_build(context, dbt, settings))
    except Exception as exc:
        failure = exc
    built = [
        e.metadata["unique_id"].value
        for e in events
        if isinstance(e, dg.Output) and "unique_id" in e.metadata
    ]
    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    tables = tables_of(manifest, built)
    if built:
        with warehouse_slot(context.instance, context.run_id, f"{step}[publish]", context.log):
            _publish_from_spark(context, warehouse, manifest, tables)
    return events, failure


def _publish_from_spark(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    manifest: Mapping[str, Any],
    tables: list[Table],
) -> None:
    """What a Spark build leaves in the DuckDB warehouse, as the DuckDB engine would: the
    marts and seeds it wrote, and the staging views (views over the warehouse's own raw layer,
    made by dbt on DuckDB when one is missing or the models changed since they were made).
    The DuckDB engine's intermediate tables, which Spark keeps for itself, are dropped: they
    would be stale."""
    settings = warehouse.settings
    con = warehouse.connect()
    try:
        written = publish(
            con, [(t, spark_table_folder(settings, t.schema, t.name)) for t in tables]
        )
        stale = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'intermediate' "
            "and database_name = current_database()"
        ).fetchone()[0]
        if stale:
            con.execute("drop schema intermediate cascade")
            progress_log.info("dropped the %d intermediate table(s) the DuckDB engine left", stale)
        views = {
            name
            for (name,) in con.execute(
                "select view_name from duckdb_views() where schema_name = 'staging' "
                "and database_name = current_database()"
            ).fetchall()
        }
    finally:
        con.close()
    progress_log.info("published %d table(s) from Spark into %s", len(written), settings.warehouse)
    staging = sorted(
        (unique_id, node["checksum"]["checksum"], node.get("alias") or node["name"])
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["schema"] == "staging"
    )
    made = hashlib.sha256(json.dumps(staging).encode()).hexdigest()
    marker = settings.dbt_dir / STAGING_VIEWS_MARKER
    current = marker.read_text(encoding="utf-8") if marker.exists() else ""
    if current == made and {name for _, _, name in staging} <= views:
        return
    progress_log.info("dbt on DuckDB: the staging views over the warehouse's raw layer")
    folder = invocation_folder(settings, context.run_id, DUCKDB_OUTPUT)
    done = run_dbt(settings, ["run", "--select", "staging"], folder, DUCKDB_OUTPUT)
    if done.returncode != 0:
        raise dg.Failure(
            "dbt could not make the staging views in the DuckDB warehouse "
            f"{settings.warehouse} (see {folder / 'dbt.log'}): "
            + done.stdout.decode(errors="replace")[-1500:]
        )
    keep_parse(settings, folder, DUCKDB_OUTPUT)
    marker.write_text(made, encoding="utf-8")


# Which staging models the DuckDB staging views were made from (their checksums).
STAGING_VIEWS_MARKER = "duckdb_staging_views.sha256"


def _build(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: Settings
) -> Iterator[Any]:
    folder = invocation_folder(settings, context.run_id)
    with environment(settings.dbt_env()):
        invocation = dbt.cli(
            ["build", "--exclude-resource-type", "unit_test", *target_args(output_of(settings))],
            context=context,
            target_path=folder,
        )
    for event in invocation.stream():
        if isinstance(event, dg.Output):
            key = context.asset_key_for_output(event.output_name)
            progress_log.info("dbt: built %s", key.to_user_string())
            event = event.with_metadata({**event.metadata, "engine": settings.engine})
        elif isinstance(event, dg.AssetCheckResult) and not event.passed:
            outcome = "warned" if event.severity == dg.AssetCheckSeverity.WARN else "failed"
            progress_log.warning("dbt: test %s %s", event.check_name, outcome)
        yield event
    keep_parse(settings, folder)
    prune_invocation_folders(settings.dbt_dir)


# Each dbt invocation leaves a folder of artifacts (manifest, run results, log: ≈7 MB), one per
# run, which under automation means one per file landed. The latest few are kept to look at.
KEEP_INVOCATION_FOLDERS = 10


def prune_invocation_folders(target: Path, keep: int = KEEP_INVOCATION_FOLDERS) -> None:
    folders = sorted(
        (p for p in target.glob("kzdw_dbt_models-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
