"""Beyond one machine: instance configs and a scaled code location (DESIGN section 11).

On one machine the platform runs as shipped: `eval_platform.definitions` (in-process executor), SQLite
instance storage under DAGSTER_HOME, and the `warehouse` concurrency pool (one DuckDB writer at a time).
This package holds what changes when it outgrows that; nothing here is imported by the default code
location. Install the extras first: `pip install dagster-postgres dagster-k8s dagster-celery` (0.29.27,
matching dagster 1.13.27).

Files (copy the one you need to `$DAGSTER_HOME/dagster.yaml`; every secret is an `{env: VAR}`):

* `dagster.postgres.yaml`: run, event-log and schedule storage in Postgres, so a webserver, a daemon
  and run workers on different machines share one instance. Needs DAGSTER_PG_HOST / _USER / _PASSWORD
  / _DB. The concurrency pools and run limits of the single-machine dagster.yaml are kept.
* `dagster.k8s.yaml`: Postgres storage plus the K8sRunLauncher (each run is a Kubernetes Job in
  `job_namespace`, from the image in DAGSTER_K8S_JOB_IMAGE, with the instance config mounted from the
  ConfigMap `instance_config_map`) and the QueuedRunCoordinator limits (at most one run per eval
  partition, a few model-calling runs at once).
* `dagster.celery.yaml`: Postgres storage plus the CeleryRunLauncher (runs as Celery tasks on workers
  listening on the broker in DAGSTER_CELERY_BROKER_URL). Per-step fan-out inside a run is the executor's
  job instead: see `definitions_scaled`.
* `definitions_scaled.py`: the same assets, an executor chosen by EVAL_PLATFORM_EXECUTOR
  (multiprocess | celery | k8s), and routing paths as partitions so each slice's eval is its own run.
  Point a workspace at it::

      load_from:
        - python_module:
            module_name: eval_platform.deploy.definitions_scaled
            location_name: eval_platform
            working_directory: .

* `parquet.py`: `export_parquet(warehouse, out_dir)`, the warehouse as day-partitioned Parquet that
  DuckDB (or MotherDuck) reads with `read_parquet(..., hive_partitioning=true)`; the way past one file.

The one constraint that does not go away: DuckDB has one writer per file. Steps that write the
warehouse share the `warehouse` pool (limit 1 in every variant) and need the file on storage every
worker mounts (a ReadWriteOnce volume pins them to one node). Model calls, the slow part, are what fan
out: each per-path run spends minutes in litellm and seconds holding the writer.

`eval_platform_tests/test_deploy_variants.py` validates each YAML against Dagster's instance schema and
the launcher / storage classes' own config schemas, and loads `definitions_scaled`; it does not start a
Postgres server, a Kubernetes cluster or a Celery broker.
"""

from pathlib import Path

DEPLOY_DIR = Path(__file__).parent
INSTANCE_VARIANTS = ("dagster.postgres.yaml", "dagster.k8s.yaml", "dagster.celery.yaml")
