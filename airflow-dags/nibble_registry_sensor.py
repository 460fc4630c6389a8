"""Airflow 2.x DAG ``nibble_registry_sensor``: every 15 minutes, trigger ``nibble_quantize`` for
each model version in the registry that has no ``<version>-<recipe>/quantized/manifest.json`` yet.

``find_versions`` lists the registry bucket with the Amazon provider's S3Hook (imported inside the
callable, so the file parses without the provider) and leaves out versions that already have a
queued or running ``nibble_quantize`` run for the same recipe; the decision itself is
``nibble_args.versions_to_quantize`` (a pure function, unit-tested). ``trigger`` is a
TriggerDagRunOperator mapped over the result (one trigger per version, with a deterministic run id
``registry__<model>__<version>__<recipe>__<ts>``). A version whose gate failed keeps its
``quantized/manifest.json`` and is therefore not re-triggered; nor is a published one.

Needs apache-airflow >= 2.4 (``expand_kwargs``) and apache-airflow-providers-amazon.
"""

from datetime import datetime, timedelta, timezone

import nibble_args
from airflow.models import DAG
from airflow.operators.python import PythonOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator

DAG_ID = "nibble_registry_sensor"
TARGET_DAG_ID = "nibble_quantize"

PARAMS = {
    "registry_uri": "s3a://registry",
    "recipe": nibble_args.DEFAULT_RECIPE,
    "aws_conn_id": "aws_default",
    "max_triggers": 8,  # per tick; the rest are picked up 15 minutes later
}


def find_versions(params, ts_nodash=None, **_):
    """Returns TriggerDagRunOperator kwargs (conf, trigger_run_id) for each version to quantize."""
    from airflow.models import DagRun
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    registry = str(params["registry_uri"]).rstrip("/")
    recipe = str(params.get("recipe") or nibble_args.DEFAULT_RECIPE)
    where = nibble_args.split_s3_uri(registry)
    if where is None:
        raise ValueError("registry_uri must be an s3a:// URI, not %r" % registry)
    bucket, prefix = where
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    hook = S3Hook(aws_conn_id=params.get("aws_conn_id") or "aws_default")
    keys = [k[len(prefix):] for k in (hook.list_keys(bucket_name=bucket, prefix=prefix) or [])]
    confs = [run.conf for state in ("queued", "running")
             for run in DagRun.find(dag_id=TARGET_DAG_ID, state=state)]
    in_flight = nibble_args.in_flight_pairs(confs, registry, recipe)
    pairs = nibble_args.versions_to_quantize(keys, recipe, in_flight)
    limit = int(params.get("max_triggers") or len(pairs))
    return nibble_args.trigger_requests(registry, pairs[:limit], recipe, ts_nodash or "manual")


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
    ).expand_kwargs(find.output)
