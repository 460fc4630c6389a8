"""Tests of the Nibble Airflow DAGs: python3 -m unittest discover -s airflow-dags/tests -v

Standard library only, run with /usr/bin/python3 (which has no Airflow): before the DAG files are
imported this module puts RECORDING STAND-INS for the few Airflow names they use into
sys.modules. The stand-ins do nothing but record constructor kwargs, default_args, params and
``>>`` dependencies; they do not schedule, render or run anything. The DAGs run inside real
Airflow 3 in tests/src/test/java/nibble/tests/AirflowDagTest.java (``airflow dags test`` with
the pinned Airflow of .venv); these fast tests check the rest: the files parse, the task graph,
retry settings, the job classes, the decision logic, and that every argument list the DAG hands
to spark-submit is accepted by the real job's own parser
(``java ... nibble.jobs.Nibble <job> <args> --dry-run`` must exit 0).

The Java tests need the jars from ``mvn package`` (jobs/target, common/target). Without them they
are skipped with a message, unless the environment variable CI is set, in which case they fail.
"""

import ast
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import types
import unittest
from datetime import timedelta
from pathlib import Path
from unittest import mock

DAGS_DIR = Path(__file__).resolve().parents[1]
REPO = DAGS_DIR.parent
VERSION = "0.1.0-SNAPSHOT"
DAG_FILES = ("nibble_quantize.py", "nibble_registry_sensor.py", "nibble_args.py")
JOBS = ("shard", "calibrate", "quantize", "evaluate")
JOB_CLASSES = {"nibble.jobs.ShardJob", "nibble.jobs.CalibrateJob", "nibble.jobs.QuantizeJob", "nibble.jobs.EvaluateJob"}


# ---- recording stand-ins for Airflow (the real one runs in AirflowDagTest) ----------------------

class StandInDAG:
    """Records its kwargs and the tasks created inside ``with DAG(...)``."""

    current = None

    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = kwargs
        self.params = dict(kwargs.get("params") or {})
        self.default_args = dict(kwargs.get("default_args") or {})
        self.tasks = {}

    def __enter__(self):
        StandInDAG.current = self
        return self

    def __exit__(self, *exc):
        StandInDAG.current = None
        return False


class StandInXComArg:
    def __init__(self, operator):
        self.operator = operator


class StandInOperator:
    """Records kwargs (default_args merged under them, as Airflow does) and dependencies."""

    def __init__(self, task_id, **kwargs):
        dag = kwargs.pop("dag", None) or StandInDAG.current
        if dag is None:
            raise AssertionError("operator %s created outside a DAG" % task_id)
        self.task_id = task_id
        self.dag = dag
        self.explicit = dict(kwargs)
        self.kwargs = {**dag.default_args, **kwargs}
        self.upstream = set()
        self.downstream = set()
        self.mapped_over = None
        if task_id in dag.tasks:
            raise AssertionError("duplicate task_id " + task_id)
        dag.tasks[task_id] = self

    @property
    def output(self):
        return StandInXComArg(self)

    def set_downstream(self, other):
        for o in other if isinstance(other, (list, tuple)) else [other]:
            self.downstream.add(o.task_id)
            o.upstream.add(self.task_id)

    def __rshift__(self, other):
        self.set_downstream(other)
        return other

    def __rrshift__(self, other):
        for o in other if isinstance(other, (list, tuple)) else [other]:
            o.set_downstream(self)
        return self

    @classmethod
    def partial(cls, **kwargs):
        return StandInPartial(cls, kwargs)


class StandInPartial:
    def __init__(self, cls, kwargs):
        self.cls = cls
        self.kwargs = kwargs

    def _mapped(self, how, arg):
        kwargs = dict(self.kwargs)
        task_id = kwargs.pop("task_id")
        op = self.cls(task_id, **kwargs)
        op.mapped_over = (how, arg)
        if isinstance(arg, StandInXComArg):  # Airflow adds this dependency itself
            arg.operator.set_downstream(op)
        return op

    def expand(self, **kwargs):
        return self._mapped("expand", kwargs)

    def expand_kwargs(self, arg):
        return self._mapped("expand_kwargs", arg)


class SparkSubmitOperator(StandInOperator):
    pass


class PythonOperator(StandInOperator):
    pass


class TriggerDagRunOperator(StandInOperator):
    pass


class StandInTaskInstance:
    """The one RuntimeTaskInstance method find_versions uses: get_dr_count."""

    runs = []  # (dag_id, run_id, state)

    def __init__(self):
        self.calls = []

    def get_dr_count(self, dag_id, logical_dates=None, run_ids=None, states=None):
        self.calls.append((dag_id, tuple(run_ids or ()), tuple(states or ())))
        return sum(1 for d, r, s in self.runs
                   if d == dag_id and (run_ids is None or r in run_ids) and (states is None or s in states))


class S3Hook:
    """Stand-in for the Amazon provider's S3Hook, installed only inside individual tests."""

    objects = {}  # bucket -> {key: body}
    instances = []

    def __init__(self, aws_conn_id="aws_default"):
        self.aws_conn_id = aws_conn_id
        S3Hook.instances.append(self)

    def list_keys(self, bucket_name=None, prefix=""):
        return sorted(k for k in self.objects.get(bucket_name, {}) if k.startswith(prefix or ""))

    def check_for_key(self, key, bucket_name=None):
        return key in self.objects.get(bucket_name, {})

    def load_string(self, string_data, key, bucket_name=None, replace=False):
        self.objects.setdefault(bucket_name, {})[key] = string_data


def _module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    m.__stand_in__ = True
    return m


def install_stand_ins():
    mods = {
        "airflow": _module("airflow"),
        "airflow.sdk": _module("airflow.sdk", DAG=StandInDAG),
        "airflow.providers": _module("airflow.providers"),
        "airflow.providers.standard": _module("airflow.providers.standard"),
        "airflow.providers.standard.operators": _module("airflow.providers.standard.operators"),
        "airflow.providers.standard.operators.python": _module(
            "airflow.providers.standard.operators.python", PythonOperator=PythonOperator),
        "airflow.providers.standard.operators.trigger_dagrun": _module(
            "airflow.providers.standard.operators.trigger_dagrun", TriggerDagRunOperator=TriggerDagRunOperator),
        "airflow.providers.apache": _module("airflow.providers.apache"),
        "airflow.providers.apache.spark": _module("airflow.providers.apache.spark"),
        "airflow.providers.apache.spark.operators": _module("airflow.providers.apache.spark.operators"),
        "airflow.providers.apache.spark.operators.spark_submit": _module(
            "airflow.providers.apache.spark.operators.spark_submit", SparkSubmitOperator=SparkSubmitOperator),
    }
    for name, m in mods.items():
        existing = sys.modules.get(name)
        if existing is not None and not getattr(existing, "__stand_in__", False):
            raise RuntimeError("a real %s is importable; these tests use recording stand-ins only" % name)
        sys.modules[name] = m


def amazon_stand_in():
    """sys.modules entries for the Amazon provider's S3Hook (for mock.patch.dict)."""
    return {
        "airflow.providers.amazon": _module("airflow.providers.amazon"),
        "airflow.providers.amazon.aws": _module("airflow.providers.amazon.aws"),
        "airflow.providers.amazon.aws.hooks": _module("airflow.providers.amazon.aws.hooks"),
        "airflow.providers.amazon.aws.hooks.s3": _module("airflow.providers.amazon.aws.hooks.s3", S3Hook=S3Hook),
    }


def load_dags():
    install_stand_ins()
    if str(DAGS_DIR) not in sys.path:
        sys.path.insert(0, str(DAGS_DIR))
    for name in ("nibble_args", "nibble_quantize", "nibble_registry_sensor"):
        sys.modules.pop(name, None)
    args = importlib.import_module("nibble_args")
    quantize = importlib.import_module("nibble_quantize")
    sensor = importlib.import_module("nibble_registry_sensor")
    return args, quantize, sensor


NIBBLE_ARGS, QUANTIZE, SENSOR = load_dags()
QDAG = QUANTIZE.dag
SDAG = SENSOR.dag

# A run's params: the DAG's params with the run's conf on top (Airflow's default behaviour).
PARAM_SETS = [
    {"model_uri": "s3a://registry/llama-7b", "version": "v1"},
    {"model_uri": "s3a://registry/tinyllama/", "version": "2024.06", "recipe": "nf4-g64",
     "max_kld": 0.05, "max_ppl_increase": 0.5, "min_top1": 0.9,
     "sequences": 64, "sequence_length": 256, "seed": 7, "overwrite": False},
    {"model_uri": "file:///tmp/nibble-registry/stories260K", "version": "v2", "recipe": "int8-channel",
     "output_uri": "/tmp/nibble-out/stories-int8/", "max_kld": "0.1", "min_top1": 1},
]


def run_params(conf):
    return {**QDAG.params, **conf}


def render(template, params, variables=None):
    """Renders the only template shapes the DAG uses, as Airflow's native renderer would."""
    variables = variables or {}
    m = re.fullmatch(r"\{\{\s*nibble_args\.(\w+)\(params\)\s*\}\}", template)
    if m:
        return getattr(QDAG.kwargs["user_defined_macros"]["nibble_args"], m.group(1))(params)
    m = re.fullmatch(r"\{\{\s*params\.(\w+) or var\.value\.get\('(\w+)', '([^']*)'\)\s*\}\}", template)
    if m:
        return params[m.group(1)] or variables.get(m.group(2), m.group(3))
    raise AssertionError("unexpected template %r" % template)


def dag_application_args(job, conf):
    return render(QDAG.tasks[job].kwargs["application_args"], run_params(conf))


# ---- the tests that need no Java ----------------------------------------------------------------

class ParseTest(unittest.TestCase):
    def test_files_parse(self):
        for name in DAG_FILES:
            with self.subTest(name):
                ast.parse((DAGS_DIR / name).read_text(encoding="utf-8"), filename=name)

    def test_import_with_stand_ins_and_without_amazon_provider(self):
        self.assertNotIn("airflow.providers.amazon.aws.hooks.s3", sys.modules)
        self.assertEqual(QDAG.dag_id, "nibble_quantize")
        self.assertEqual(SDAG.dag_id, "nibble_registry_sensor")

    def test_args_module_does_not_import_airflow(self):
        tree = ast.parse((DAGS_DIR / "nibble_args.py").read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        self.assertFalse([m for m in imported if m and m.startswith("airflow")])


class QuantizeDagTest(unittest.TestCase):
    def test_params(self):
        p = QDAG.params
        for key in ("model_uri", "version", "recipe", "output_uri", "max_kld", "max_ppl_increase",
                    "min_top1", "spark_conn_id", "application_jar"):
            self.assertIn(key, p)
        self.assertEqual(p["recipe"], "int4-g128")
        self.assertEqual(p["spark_conn_id"], "spark_default")
        self.assertIsNone(p["application_jar"])  # the Variable is read when the task runs

    def test_application_jar(self):
        app = QDAG.tasks["shard"].kwargs["application"]
        self.assertEqual(render(app, run_params({})), QUANTIZE.DEFAULT_JAR)
        self.assertEqual(render(app, run_params({}), {"nibble_application_jar": "s3a://b/j.jar"}), "s3a://b/j.jar")
        self.assertEqual(render(app, run_params({"application_jar": "/x.jar"}), {"nibble_application_jar": "y"}), "/x.jar")

    def test_task_order(self):
        order = ["shard", "calibrate", "quantize", "evaluate", "publish"]
        self.assertEqual(set(QDAG.tasks), set(order))
        for a, b in zip(order, order[1:]):
            self.assertEqual(QDAG.tasks[a].downstream, {b}, a)
            self.assertEqual(QDAG.tasks[b].upstream, {a}, b)
        self.assertEqual(QDAG.tasks["shard"].upstream, set())

    def test_default_args_retry_with_exponential_backoff(self):
        d = QDAG.default_args
        self.assertGreaterEqual(d["retries"], 1)
        self.assertIsInstance(d["retry_delay"], timedelta)
        self.assertIs(d["retry_exponential_backoff"], True)
        self.assertIsInstance(d["max_retry_delay"], timedelta)
        self.assertGreater(d["max_retry_delay"], d["retry_delay"])
        for job in ("shard", "calibrate", "quantize", "publish"):
            self.assertGreaterEqual(QDAG.tasks[job].kwargs["retries"], 1, job)

    def test_evaluate_does_not_retry_and_publish_needs_all_success(self):
        self.assertEqual(QDAG.tasks["evaluate"].kwargs["retries"], 0)
        self.assertEqual(QDAG.tasks["publish"].kwargs.get("trigger_rule", "all_success"), "all_success")

    def test_spark_tasks(self):
        for job in JOBS:
            t = QDAG.tasks[job]
            self.assertIsInstance(t, SparkSubmitOperator)
            self.assertIn(t.kwargs["java_class"], JOB_CLASSES)
            self.assertEqual(t.kwargs["java_class"], NIBBLE_ARGS.JOB_CLASSES[job])
            self.assertEqual(t.kwargs["conn_id"], "spark_default")
            self.assertEqual(render(t.kwargs["application"], run_params({})), QUANTIZE.DEFAULT_JAR)
        self.assertIsInstance(QDAG.tasks["publish"], PythonOperator)
        self.assertIs(QDAG.kwargs["render_template_as_native_obj"], True)

    def test_rendered_args_follow_registry_convention(self):
        self.assertEqual(dag_application_args("shard", PARAM_SETS[0]),
                         ["--input", "s3a://registry/llama-7b/v1",
                          "--output", "s3a://registry/llama-7b/v1-int4-g128/table", "--overwrite"])
        self.assertEqual(dag_application_args("calibrate", PARAM_SETS[0]),
                         ["--input", "s3a://registry/llama-7b/v1-int4-g128/table",
                          "--output", "s3a://registry/llama-7b/v1-int4-g128/table/stats", "--overwrite"])
        self.assertEqual(dag_application_args("quantize", PARAM_SETS[0]),
                         ["--input", "s3a://registry/llama-7b/v1-int4-g128/table",
                          "--output", "s3a://registry/llama-7b/v1-int4-g128/quantized",
                          "--recipe", "int4-g128",
                          "--stats", "s3a://registry/llama-7b/v1-int4-g128/table/stats", "--overwrite"])
        self.assertEqual(dag_application_args("evaluate", PARAM_SETS[0]),
                         ["--original", "s3a://registry/llama-7b/v1-int4-g128/table",
                          "--quantized", "s3a://registry/llama-7b/v1-int4-g128/quantized",
                          "--output", "s3a://registry/llama-7b/v1-int4-g128/eval", "--overwrite"])
        self.assertEqual(dag_application_args("evaluate", PARAM_SETS[1]),
                         ["--original", "s3a://registry/tinyllama/2024.06-nf4-g64/table",
                          "--quantized", "s3a://registry/tinyllama/2024.06-nf4-g64/quantized",
                          "--output", "s3a://registry/tinyllama/2024.06-nf4-g64/eval",
                          "--max-kld", "0.05", "--max-ppl-increase", "0.5", "--min-top1", "0.9",
                          "--sequences", "64", "--sequence-length", "256", "--seed", "7"])
        self.assertEqual(dag_application_args("shard", PARAM_SETS[2])[:4],
                         ["--input", "file:///tmp/nibble-registry/stories260K/v2",
                          "--output", "/tmp/nibble-out/stories-int8/table"])

    def test_every_arg_is_a_string(self):
        for conf in PARAM_SETS:
            for job in JOBS:
                args = dag_application_args(job, conf)
                self.assertTrue(args and all(isinstance(a, str) and a for a in args), (job, args))

    def test_publish_local(self):
        with tempfile.TemporaryDirectory() as d:
            params = run_params({"model_uri": d + "/m", "version": "v1"})
            out = Path(d, "m", "v1-int4-g128")
            with self.assertRaises(FileNotFoundError):
                QUANTIZE.publish(params, run_id="r1")
            for rel in ("quantized/manifest.json", "eval/report.json"):
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / rel).write_text("{}")
            marker = QUANTIZE.publish(params, run_id="r1")
            self.assertEqual(marker, str(out / "_PUBLISHED"))
            self.assertFalse((out / "_PUBLISHED.tmp").exists())
            body = json.loads((out / "_PUBLISHED").read_text())
            self.assertEqual(body["dag_run_id"], "r1")
            self.assertEqual(body["quantized"], str(out / "quantized"))

    def test_publish_s3_with_stand_in_hook(self):
        S3Hook.objects = {"registry": {"m/v1-int4-g128/quantized/manifest.json": "{}"}}
        params = run_params({"model_uri": "s3a://registry/m", "version": "v1"})
        with mock.patch.dict(sys.modules, amazon_stand_in()):
            with self.assertRaises(FileNotFoundError):  # no eval/report.json yet
                QUANTIZE.publish(params, run_id="r1")
            S3Hook.objects["registry"]["m/v1-int4-g128/eval/report.json"] = "{}"
            self.assertEqual(QUANTIZE.publish(params, run_id="r1"), "s3a://registry/m/v1-int4-g128/_PUBLISHED")
        self.assertIn("m/v1-int4-g128/_PUBLISHED", S3Hook.objects["registry"])


class ArgsModuleTest(unittest.TestCase):
    def test_required_and_invalid_params(self):
        for bad in ({"version": "v1"}, {"model_uri": "s3a://registry/m"},
                    {"model_uri": "s3a://registry/m", "version": "a/b"},
                    {"model_uri": "s3a://registry/m", "version": "v1", "recipe": "/tmp/my-recipe.json"},
                    {"model_uri": "s3a://registry/m", "version": "v1", "max_kld": "lots"},
                    {"model_uri": "s3a://registry/m", "version": "v1", "max_kld": float("nan")},
                    {"model_uri": "s3a://registry/m", "version": "v1", "seed": 1.5}):
            with self.subTest(bad), self.assertRaises(ValueError):
                for job in JOBS:
                    NIBBLE_ARGS.job_args(job, bad)

    def test_recipe_file_with_explicit_output(self):
        p = {"model_uri": "s3a://registry/m", "version": "v1", "recipe": "/etc/nibble/r.json",
             "output_uri": "s3a://registry/m/v1-custom"}
        self.assertIn("/etc/nibble/r.json", NIBBLE_ARGS.quantize_args(p))
        self.assertEqual(NIBBLE_ARGS.paths(p)["quantized"], "s3a://registry/m/v1-custom/quantized")

    def test_split_s3_uri(self):
        self.assertEqual(NIBBLE_ARGS.split_s3_uri("s3a://registry/m/v1/_PUBLISHED"), ("registry", "m/v1/_PUBLISHED"))
        self.assertEqual(NIBBLE_ARGS.split_s3_uri("s3://b"), ("b", ""))
        self.assertIsNone(NIBBLE_ARGS.split_s3_uri("/tmp/x"))
        self.assertIsNone(NIBBLE_ARGS.split_s3_uri("file:///tmp/x"))

    def test_versions_to_quantize(self):
        keys = [
            "llama-7b/v1/model.safetensors",                       # quantized already
            "llama-7b/v1-int4-g128/quantized/manifest.json",
            "llama-7b/v1-int4-g128/table/manifest.json",
            "llama-7b/v2/model-00001-of-00002.safetensors",        # needs it
            "llama-7b/v2/model.safetensors.index.json",
            "llama-7b/v3/config.json",                             # no weights yet
            "llama-7b/v4/model.safetensors",                       # only a table so far: still needs it
            "llama-7b/v4-int4-g128/table/manifest.json",
            "llama-7b/v5/model.safetensors",                       # other recipe done, not this one
            "llama-7b/v5-nf4-g64/quantized/manifest.json",
            "stories/260K/stories260K.bin",                        # llama2.c checkpoint
            "tables/t1/manifest.json",                             # a tensor table as input
            "tables/t1/tensors/part-00000.parquet",
            "stray.txt", "llama-7b/loose-file.bin", "_jars/nibble-jobs-0.1.0-SNAPSHOT-spark.jar",
        ]
        self.assertEqual(NIBBLE_ARGS.versions_to_quantize(keys),
                         [("llama-7b", "v2"), ("llama-7b", "v4"), ("llama-7b", "v5"),
                          ("stories", "260K"), ("tables", "t1")])
        self.assertEqual(NIBBLE_ARGS.versions_to_quantize(keys, "nf4-g64"),
                         [("llama-7b", "v1"), ("llama-7b", "v2"), ("llama-7b", "v4"),
                          ("stories", "260K"), ("tables", "t1")])
        self.assertEqual(NIBBLE_ARGS.versions_to_quantize(keys, in_flight={("llama-7b", "v2"), ("x", "y")}),
                         [("llama-7b", "v4"), ("llama-7b", "v5"), ("stories", "260K"), ("tables", "t1")])
        self.assertEqual(NIBBLE_ARGS.versions_to_quantize([]), [])

    def test_trigger_requests(self):
        reqs = NIBBLE_ARGS.trigger_requests("s3a://registry/", [("m", "v1")], "int4-g128")
        self.assertEqual(reqs, [{"trigger_run_id": "registry__m__v1__int4-g128",
                                 "conf": {"model_uri": "s3a://registry/m", "version": "v1", "recipe": "int4-g128"}}])
        self.assertEqual(NIBBLE_ARGS.trigger_run_id("m", "v1", "nf4-g64"), "registry__m__v1__nf4-g64")

    def test_local_path_and_keys(self):
        self.assertEqual(NIBBLE_ARGS.local_path("file:///tmp/r"), "/tmp/r")
        self.assertEqual(NIBBLE_ARGS.local_path("file:/tmp/r"), "/tmp/r")
        self.assertEqual(NIBBLE_ARGS.local_path("/tmp/r"), "/tmp/r")
        with self.assertRaises(ValueError):
            NIBBLE_ARGS.local_path("s3a://registry/m")
        with tempfile.TemporaryDirectory() as d:
            for rel in ("m/v1/a.bin", "m/v1-int4-g128/quantized/manifest.json", "m/.v2-int4-g128.nibble-claim"):
                Path(d, rel).parent.mkdir(parents=True, exist_ok=True)
                Path(d, rel).write_text("")
            keys = NIBBLE_ARGS.local_keys("file://" + d + "/")
            self.assertEqual(sorted(keys), ["m/.v2-int4-g128.nibble-claim", "m/v1-int4-g128/quantized/manifest.json", "m/v1/a.bin"])
            self.assertEqual(NIBBLE_ARGS.versions_to_quantize(keys), [])


class SensorDagTest(unittest.TestCase):
    def test_graph(self):
        self.assertEqual(set(SDAG.tasks), {"find_versions", "trigger"})
        trigger = SDAG.tasks["trigger"]
        self.assertIsInstance(trigger, TriggerDagRunOperator)
        self.assertEqual(trigger.kwargs["trigger_dag_id"], "nibble_quantize")
        self.assertEqual(trigger.mapped_over[0], "expand_kwargs")
        self.assertIs(trigger.mapped_over[1].operator, SDAG.tasks["find_versions"])
        self.assertEqual(trigger.upstream, {"find_versions"})
        self.assertIsNotNone(SDAG.kwargs["schedule"])
        self.assertIs(SDAG.kwargs["catchup"], False)

    def test_trigger_resets_a_failed_run_under_the_same_id(self):
        trigger = SDAG.tasks["trigger"]
        self.assertIs(trigger.kwargs["reset_dag_run"], True)
        self.assertIs(trigger.kwargs["wait_for_completion"], False)

    def test_find_versions_with_stand_in_hook(self):
        S3Hook.objects = {"registry": {
            "m/v1/model.safetensors": "", "m/v1-int4-g128/quantized/manifest.json": "",
            "m/v2/model.safetensors": "", "m/v3/model.safetensors": "", "n/v1/model.bin": ""}}
        StandInTaskInstance.runs = [("nibble_quantize", "registry__m__v3__int4-g128", "running"),
                                    ("nibble_quantize", "registry__n__v1__int4-g128", "failed")]
        params = dict(SDAG.params)
        ti = StandInTaskInstance()
        with mock.patch.dict(sys.modules, amazon_stand_in()):
            got = SENSOR.find_versions(params, ti=ti)
        self.assertEqual([(r["conf"]["model_uri"], r["conf"]["version"]) for r in got],
                         [("s3a://registry/m", "v2"), ("s3a://registry/n", "v1")])
        self.assertEqual(got[0]["trigger_run_id"], "registry__m__v2__int4-g128")
        self.assertIn(("nibble_quantize", ("registry__m__v3__int4-g128",), ("queued", "running")), ti.calls)
        for r in got:  # what the sensor sends must produce valid job arguments
            for job in JOBS:
                NIBBLE_ARGS.job_args(job, run_params(r["conf"]))
        params["max_triggers"] = 1
        with mock.patch.dict(sys.modules, amazon_stand_in()):
            self.assertEqual(len(SENSOR.find_versions(params, ti=StandInTaskInstance())), 1)

    def test_find_versions_in_a_local_registry(self):
        StandInTaskInstance.runs = []
        with tempfile.TemporaryDirectory() as d:
            for rel in ("m/v1/model.safetensors", "m/v1-int4-g128/quantized/manifest.json", "m/v2/stories.bin"):
                Path(d, rel).parent.mkdir(parents=True, exist_ok=True)
                Path(d, rel).write_text("")
            got = SENSOR.find_versions({**SDAG.params, "registry_uri": "file://" + d}, ti=StandInTaskInstance())
        self.assertNotIn("airflow.providers.amazon.aws.hooks.s3", sys.modules)
        self.assertEqual(got, [{"trigger_run_id": "registry__m__v2__int4-g128",
                                "conf": {"model_uri": "file://" + d + "/m", "version": "v2", "recipe": "int4-g128"}}])


# ---- the tests that run the real job parsers (java ... --dry-run) -------------------------------

def nibble_java_command():
    """[java, flags..., -cp, classpath, nibble.jobs.Nibble], or None when the jars are not built."""
    jobs_jar = REPO / "jobs" / "target" / ("nibble-jobs-%s.jar" % VERSION)
    common_jar = REPO / "common" / "target" / ("nibble-common-%s.jar" % VERSION)
    cp_file = REPO / "jobs" / "target" / "launcher-classpath.txt"
    if not (jobs_jar.is_file() and common_jar.is_file() and cp_file.is_file()):
        return None
    classpath = "%s:%s:%s" % (jobs_jar, common_jar, cp_file.read_text(encoding="utf-8").strip())
    pom = (REPO / "pom.xml").read_text(encoding="utf-8")
    flags = re.search(r"<spark\.jvm\.flags>(.*?)</spark\.jvm\.flags>", pom, re.S).group(1).split()
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    return [java, "-Xmx512m", *flags, "-Dlog4j2.configurationFile=" + str(REPO / "conf" / "log4j2.properties"),
            "-cp", classpath, "nibble.jobs.Nibble"]


def example_args(job):
    """The application arguments of conf/jobs/<job>.args (everything after the application jar)."""
    text = (REPO / "conf" / "jobs" / (job + ".args")).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    words = shlex.split(" ".join(lines).replace("\\ ", " "))
    jar = next(i for i, w in enumerate(words) if w.endswith(".jar"))
    return words[jar + 1:]


class JobParsersAcceptDagArgsTest(unittest.TestCase):
    """One test per job: the DAG's argument lists (and conf/jobs examples) pass ``--dry-run``."""

    @classmethod
    def setUpClass(cls):
        cls.command = nibble_java_command()

    def require_jars(self):
        if self.command is None:
            message = ("the Nibble jars are not built (jobs/target, common/target): "
                       "run mvn -B -DskipTests package first")
            if os.environ.get("CI"):
                self.fail(message + " (CI is set, so this is a failure, not a skip)")
            self.skipTest(message)

    def nibble(self, job, args):
        p = subprocess.run(self.command + [job] + list(args), cwd=str(REPO), capture_output=True,
                           text=True, timeout=300)
        return p.returncode, "nibble %s %s\nstdout:\n%s\nstderr:\n%s" % (job, shlex.join(args), p.stdout, p.stderr)

    def check_job(self, job):
        self.require_jars()
        for i, conf in enumerate(PARAM_SETS):
            args = dag_application_args(job, conf)
            with self.subTest(params=i):
                code, out = self.nibble(job, args + ["--dry-run"])
                self.assertEqual(code, 0, out)
        with self.subTest("conf/jobs/%s.args" % job):
            code, out = self.nibble(job, example_args(job) + ["--dry-run"])
            self.assertEqual(code, 0, out)

    def test_shard(self):
        self.check_job("shard")

    def test_calibrate(self):
        self.check_job("calibrate")

    def test_quantize(self):
        self.check_job("quantize")

    def test_evaluate(self):
        self.check_job("evaluate")

    def test_bad_args_rejected(self):
        self.require_jars()
        good = dag_application_args("quantize", PARAM_SETS[0])
        without_output = good[:2] + good[4:]
        for job, args in (("quantize", without_output + ["--dry-run"]),
                          ("shard", dag_application_args("shard", PARAM_SETS[0]) + ["--no-such-option", "--dry-run"]),
                          ("evaluate", ["--original", "s3a://registry/m/t", "--max-kld", "lots", "--dry-run"])):
            with self.subTest(job=job):
                code, out = self.nibble(job, args)
                self.assertEqual(code, 2, out)


if __name__ == "__main__":
    unittest.main()
