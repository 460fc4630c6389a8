"""Airflow 3 DAG ``nibble_registry_sensor``: every 15 minutes, trigger ``nibble_quantize`` for
each model version in the registry that has no ``<version>-<recipe>/quantized/manifest.json`` yet.

``find_versions`` lists the registry: an ``s3a://`` bucket with the Amazon provider's S3Hook
(imported inside the callable, so the file parses without the provider), or a ``file:``/plain
path with ``os.walk``. The decision is ``nibble_args.versions_to_quantize`` (a pure function,
unit-tested). Each version gets one deterministic run id, ``registry__<model>__<version>__<recipe>``
(``nibble_args.trigger_run_id``); a version whose run is queued or running is left out (asked of
Airflow through the task's ``get_dr_count``, since Airflow 3 tasks have no database access).
``trigger`` is a TriggerDagRunOperator mapped over the result, with ``reset_dag_run=True``: a
version whose earlier run failed before writing its quantized table is run again under the same
run id. A version whose gate failed keeps its ``quantized/manifest.json`` and is therefore not
re-triggered; nor is a published one.

Needs apache-airflow 3 (tested: 3.3.2) with apache-airflow-providers-standard; an s3a:// registry
needs apache-airflow-providers-amazon.
"""

from datetime import datetime, timedelta, timezone

import nibble_args
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG

DAG_ID = "nibble_registry_sensor"
TARGET_DAG_ID = "nibble_quantize"
ACTIVE_STATES = ["queued", "running"]

PARAMS = {
    "registry_uri": "s3a://registry",  # or file:///path, /path: a registry on a shared file system
    "recipe": nibble_args.DEFAULT_RECIPE,
    "aws_conn_id": "aws_default",
    "max_triggers": 8,  # per tick; the rest are picked up 15 minutes later
}


def list_registry(registry, aws_conn_id):
    """Keys ``<model>/<version>/<file>`` under the registry root."""
    where = nibble_args.split_s3_uri(registry)
    if where is None:
        return nibble_args.local_keys(registry)
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket, prefix = where
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    hook = S3Hook(aws_conn_id=aws_conn_id)
    return [k[len(prefix):] for k in (hook.list_keys(bucket_name=bucket, prefix=prefix) or [])]


def find_versions(params, ti=None, **_):
    """Returns TriggerDagRunOperator kwargs (conf, trigger_run_id) for each version to quantize."""
    registry = str(params["registry_uri"]).rstrip("/")
    recipe = str(params.get("recipe") or nibble_args.DEFAULT_RECIPE)
    keys = list_registry(registry, params.get("aws_conn_id") or "aws_default")
    pairs = nibble_args.versions_to_quantize(keys, recipe)
    in_flight = {(m, v) for m, v in pairs
                 if ti.get_dr_count(dag_id=TARGET_DAG_ID, run_ids=[nibble_args.trigger_run_id(m, v, recipe)],
                                    states=ACTIVE_STATES)}
    pairs = [p for p in pairs if p not in in_flight]
    limit = int(params.get("max_triggers") or len(pairs))
    return nibble_args.trigger_requests(registry, pairs[:limit], recipe)


with DAG(
    dag_id=DAG_ID,
    description="Trigger nibble_quantize for registry model versions that are not quantized yet.",
    schedule=timedelta(minutes=15),
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    params=PARAMS,
    default_args={
        "owner": "nibble",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
    },
    tags=["nibble"],
) as dag:
    find = PythonOperator(task_id="find_versions", python_callable=find_versions)
    trigger = TriggerDagRunOperator.partial(
        task_id="trigger",
        trigger_dag_id=TARGET_DAG_ID,
        wait_for_completion=False,
        reset_dag_run=True,
    ).expand_kwargs(find.output)
