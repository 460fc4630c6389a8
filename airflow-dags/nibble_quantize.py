"""Airflow 3 DAG ``nibble_quantize``: shard → calibrate → quantize → evaluate → publish.

Install: copy this file, nibble_registry_sensor.py and nibble_args.py into the dags folder (see
docs/AIRFLOW.md). Needs apache-airflow 3 (tested: 3.3.2; Airflow 2 is not supported) with
apache-airflow-providers-apache-spark and -standard; publish to s3a:// needs
apache-airflow-providers-amazon. A local registry (file: or plain paths) needs no Amazon provider.

Each Spark stage is a SparkSubmitOperator running one Nibble job class from the shaded jar
(``nibble-jobs-*-spark.jar``). Its ``application_args`` come from nibble_args.py: the field is a
template ``{{ nibble_args.<job>_args(params) }}`` rendered as a native Python list
(``render_template_as_native_obj=True``), so a run's conf (which overrides ``params``) decides
the paths, and the list the job gets is exactly what nibble_args returns.

Failures and retries: every task retries with exponential back-off (default_args), and every job
gets ``--overwrite`` (param ``overwrite``, default True) so that a retry after a partial write
replaces it. ``evaluate`` exits with code 4 when the quality gate fails; evaluate therefore has
``retries=0`` (a gate failure is not transient — retrying would only recompute the same verdict),
the task fails, and ``publish`` (trigger rule all_success, the default) does not run. The price:
a transient evaluate failure also needs a manual "clear". ``publish`` writes the promotion marker
``<output_uri>/_PUBLISHED`` (JSON) with the Amazon provider's S3Hook — no spark-submit — after
checking that ``quantized/manifest.json`` and ``eval/report.json`` exist.

``spark_conn_id`` is read when the file is parsed: SparkSubmitOperator's ``conn_id`` is not a
templated field, so overriding it in a run's conf has no effect (change the default instead).
``application_jar`` is templated and may be overridden per run; when it is not given, the Airflow
Variable ``nibble_application_jar`` is read when the task runs (not when the file is parsed).
"""

from datetime import datetime, timedelta, timezone

import nibble_args
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

DAG_ID = "nibble_quantize"
DEFAULT_JAR = "s3a://registry/_jars/nibble-jobs-0.1.0-SNAPSHOT-spark.jar"

PARAMS = {
    "model_uri": None,            # s3a://registry/<model>; the checkpoint is <model_uri>/<version>/
    "version": None,
    "recipe": nibble_args.DEFAULT_RECIPE,
    "output_uri": None,           # default <model_uri>/<version>-<recipe>
    "max_kld": None,              # gate thresholds; None = the evaluate job's defaults
    "max_ppl_increase": None,
    "min_top1": None,
    "sequences": None,
    "sequence_length": None,
    "seed": None,
    "overwrite": True,
    "spark_conn_id": "spark_default",
    "aws_conn_id": "aws_default",  # publish's S3Hook connection
    "application_jar": None,       # default: Variable nibble_application_jar, else DEFAULT_JAR
}

# Rendered when the task runs: the run's application_jar, else the Variable, else DEFAULT_JAR.
APPLICATION = ("{{ params.application_jar or var.value.get('nibble_application_jar', '%s') }}"
               % DEFAULT_JAR)

DEFAULT_ARGS = {
    "owner": "nibble",
    "depends_on_past": False,
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}


def publish(params, run_id=None, **_):
    """Writes ``<output>/_PUBLISHED`` once the quantized table and the evaluation report exist."""
    required, marker, body = nibble_args.publish_plan(
        params, run_id=run_id, published_at=datetime.now(timezone.utc).isoformat())
    if nibble_args.split_s3_uri(marker) is None:
        # file: and plain paths: a registry on a shared file system.
        import os
        missing = [u for u in required if not os.path.exists(nibble_args.local_path(u))]
        if missing:
            raise FileNotFoundError("not publishing, missing: %s" % ", ".join(missing))
        path = nibble_args.local_path(marker)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(body)
        os.replace(path + ".tmp", path)  # readers never see a half-written marker
        return marker
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # imported here: parsing needs no provider
    hook = S3Hook(aws_conn_id=params.get("aws_conn_id") or "aws_default")
    missing = []
    for uri in required:
        bucket, key = nibble_args.split_s3_uri(uri)
        if not hook.check_for_key(key, bucket_name=bucket):
            missing.append(uri)
    if missing:
        raise FileNotFoundError("not publishing, missing: %s" % ", ".join(missing))
    bucket, key = nibble_args.split_s3_uri(marker)
    hook.load_string(body, key=key, bucket_name=bucket, replace=True)
    return marker


with DAG(
    dag_id=DAG_ID,
    description="Quantize one registry model version with Nibble and publish it if the gate passes.",
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=4,
    params=PARAMS,
    default_args=DEFAULT_ARGS,
    user_defined_macros={"nibble_args": nibble_args},
    render_template_as_native_obj=True,
    tags=["nibble", "quantization"],
) as dag:
    stages = {}
    for job in ("shard", "calibrate", "quantize", "evaluate"):
        extra = {"retries": 0} if job == "evaluate" else {}
        stages[job] = SparkSubmitOperator(
            task_id=job,
            conn_id=PARAMS["spark_conn_id"],
            application=APPLICATION,
            java_class=nibble_args.JOB_CLASSES[job],
            application_args="{{ nibble_args.%s_args(params) }}" % job,
            name="nibble-%s" % job,
            **extra,
        )

    publish_task = PythonOperator(task_id="publish", python_callable=publish)

    stages["shard"] >> stages["calibrate"] >> stages["quantize"] >> stages["evaluate"] >> publish_task
