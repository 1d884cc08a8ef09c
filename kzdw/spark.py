"""A Spark Thrift Server for a deployment (KZDW_ENGINE=spark, KZDW_SPARK_METHOD=thrift).

A municipal platform runs its own Spark and Thrift Server (`sbin/start-thriftserver.sh` of a
Spark distribution); kzdw then only needs its host and port, and a lake folder that both it
and Spark see. The pyspark package has no sbin/ scripts, but it carries Spark's jars, the Hive
Thrift Server's among them, and `spark-submit`: `kzdw spark-server` starts the same server
from them, on loopback, with its metastore and tables beside the warehouse, for one machine
or for trying the production target before a cluster is there.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from kzdw.settings import Settings, dbt_command

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
# The JIT compiles only code three times as hot as by default, as in a local session
# (dbt_project/profiles.yml): most of a short-lived JVM's CPU goes to compiling Spark's own
# code. The collector stays the default: an operator may give the server a large heap.
SERVER_JAVA_OPTIONS = "-XX:CompileThresholdScaling=3"


class SparkMissing(RuntimeError):
    pass


@functools.cache
def spark_home() -> Path:
    """The Spark that pyspark carries (its jars and bin/), in dbt's environment (dbt_env/)."""
    found = subprocess.run(
        [
            dbt_command("python"),
            "-c",
            "import os, pyspark; print(os.path.dirname(pyspark.__file__))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise SparkMissing(
            "pyspark is not installed in dbt's environment "
            f"({dbt_command('python')}): run `make setup`.\n{found.stderr[-1000:]}"
        )
    return Path(found.stdout.strip()).resolve()


def thrift_server_command(
    settings: Settings, port: int, host: str = "127.0.0.1", extra: list[str] | None = None
) -> list[str]:
    """`spark-submit` of the Thrift Server in local mode, with its Derby metastore and warehouse
    folder in the deployment's Spark folder, the web UI off, and few shuffle partitions (one
    machine) for other clients. dbt's profile sets on every session of its own what the SQL
    means (time zone, timestamp type, ANSI) and its shuffle partitions (Spark's 200, which
    adaptive execution merges), so the server needs nothing of it."""
    folder = settings.spark_dir
    return [
        str(spark_home() / "bin" / "spark-submit"),
        "--class",
        THRIFT_SERVER_CLASS,
        "--name",
        f"kzdw-thrift-{settings.warehouse.stem}",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        f"spark.sql.warehouse.dir={folder / 'warehouse'}",
        "--conf",
        "spark.hadoop.javax.jdo.option.ConnectionURL="
        f"jdbc:derby:;databaseName={folder / 'metastore_db'};create=true",
        "--conf",
        f"spark.driver.extraJavaOptions=-Dderby.system.home={folder} {SERVER_JAVA_OPTIONS}",
        "--conf",
        "spark.sql.shuffle.partitions=2",
        *(extra or []),
        "spark-internal",
        "--hiveconf",
        f"hive.server2.thrift.port={port}",
        "--hiveconf",
        f"hive.server2.thrift.bind.host={host}",
    ]


def thrift_server_env() -> dict[str, str]:
    return {**os.environ, "SPARK_HOME": str(spark_home())}
