"""Each dbt invocation's artifact folder is kept for the latest few runs only."""

import os

from orchestration.defs.dbt.assets import prune_invocation_folders


def test_only_the_latest_invocation_folders_are_kept(tmp_path):
    for i in range(13):
        folder = tmp_path / f"kzdw_dbt_models-run{i:02d}-abc"
        folder.mkdir()
        (folder / "manifest.json").write_text("{}", encoding="utf-8")
        os.utime(folder, (1_000 + i, 1_000 + i))
    (tmp_path / "partial_parse.msgpack").write_bytes(b"x")
    (tmp_path / "compiled").mkdir()

    prune_invocation_folders(tmp_path, keep=10)

    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(
        ["partial_parse.msgpack", "compiled"]
        + [f"kzdw_dbt_models-run{i:02d}-abc" for i in range(3, 13)]
    )
