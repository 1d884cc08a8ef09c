"""The raw asset loads exactly the file versions it is given (the landing sensor's), or every
settled file; what it skips it says; a personal-data key other than the warehouse's stops it."""

import os
import time

import dagster as dg
import duckdb
import pytest

from orchestration.lib.ingest import build_raw_asset, file_versions
from orchestration.lib.warehouse import WarehouseResource
from sources.contracts import SERVICE_ITEMS
from sources.landing import LandingFile
from tests.sources.test_landing import _csv

ASSET = build_raw_asset(SERVICE_ITEMS)
OP = "raw__service_items"


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    monkeypatch.delenv("KZDW_PII_KEY", raising=False)
    folder = tmp_path / "landing" / "service_items"
    folder.mkdir(parents=True)
    resource = WarehouseResource(
        landing_dir=str(tmp_path / "landing"), warehouse=str(tmp_path / "w.duckdb")
    )
    return tmp_path, folder, resource


def _materialize(resource, files=None):
    config = {"ops": {OP: {"config": {"files": files}}}} if files is not None else None
    result = dg.materialize([ASSET], resources={"warehouse": resource}, run_config=config)
    assert result.success
    [event] = result.get_asset_materialization_events()
    return event.materialization.metadata


def _loaded(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        return con.execute(
            "select file_name, rows_loaded from audit.file_loads order by load_id"
        ).fetchall()
    finally:
        con.close()


def test_loads_exactly_the_versions_it_was_given(deployment):
    tmp_path, folder, resource = deployment
    for i, name in enumerate(("a.csv", "b.csv")):
        (folder / name).write_text(_csv(f"I{i}"), encoding="utf-8")
        os.utime(folder / name, (1_000 + i, 1_000 + i))
    given = LandingFile.at(folder / "a.csv")
    # b.csv is settled too, but the sensor's run was for a.csv only.
    metadata = _materialize(resource, file_versions([given]))
    assert metadata["files"].value == ["a.csv"]
    assert _loaded(tmp_path) == [("a.csv", 1)]
    assert [p.name for p in folder.iterdir()] == ["b.csv"]  # a.csv went to the archive
    assert (tmp_path / "archive" / "service_items").is_dir()

    # The sensor saw b.csv at one size; it has grown since: this run leaves it alone.
    seen = LandingFile.at(folder / "b.csv")
    with (folder / "b.csv").open("a", encoding="utf-8") as f:
        f.write(_csv("I9").splitlines()[1] + "\n")
    metadata = _materialize(resource, file_versions([seen]))
    assert metadata["files"].value == []
    assert _loaded(tmp_path) == [("a.csv", 1)]


def test_without_a_list_every_settled_file_is_loaded_and_a_young_one_waited_for(deployment):
    tmp_path, folder, resource = deployment
    (folder / "old.csv").write_text(_csv("I1"), encoding="utf-8")
    os.utime(folder / "old.csv", (1_000, 1_000))
    (folder / "new.csv").write_text(_csv("I2"), encoding="utf-8")  # written just now
    started = time.monotonic()
    metadata = _materialize(resource)
    # new.csv was younger than the settle time: the run waited for it, then took it.
    assert sorted(metadata["files"].value) == ["new.csv", "old.csv"]
    assert time.monotonic() - started >= 2
    assert {name for name, _ in _loaded(tmp_path)} == {"new.csv", "old.csv"}


def test_skipped_entries_are_counted_and_said(deployment, tmp_path):
    _, folder, resource = deployment
    (folder / "link.csv").symlink_to(tmp_path / "nowhere.csv")
    os.mkfifo(folder / "pipe.csv")
    metadata = _materialize(resource)
    assert metadata["files_skipped"].value == 2
    assert metadata["files"].value == []


def test_a_key_other_than_the_warehouses_stops_the_load(deployment, monkeypatch):
    tmp_path, folder, resource = deployment
    (folder / "a.csv").write_text(_csv("I1"), encoding="utf-8")
    os.utime(folder / "a.csv", (1_000, 1_000))
    _materialize(resource)
    key_file = tmp_path / "w.pii.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(key_file.read_text(encoding="utf-8").strip()) == 64
    (folder / "b.csv").write_text(_csv("I2"), encoding="utf-8")
    os.utime(folder / "b.csv", (2_000, 2_000))
    monkeypatch.setenv("KZDW_PII_KEY", "another-key-of-32-characters-xx")
    result = dg.materialize([ASSET], resources={"warehouse": resource}, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "个人信息密钥与建库时不同" in failure.step_failure_data.error.cause.message
    assert _loaded(tmp_path) == [("a.csv", 1)]
    assert (folder / "b.csv").exists()
