"""Plain functions behind the Nibble Airflow DAGs: no Airflow import, unit-testable.

Registry convention (one bucket, default ``s3a://registry``):

    <registry>/<model>/<version>/                  the checkpoint (input of shard)
    <registry>/<model>/<version>-<recipe>/         everything Nibble writes for that recipe:
        table/          dense tensor table (shard --output)
        table/stats/    per-channel statistics (calibrate's default --output, passed explicitly)
        quantized/      quantized table (quantize --output); quantized/manifest.json is written last
        eval/           evaluation (evaluate --output): report.json, ...
        _PUBLISHED      promotion marker, written by the DAG's publish task after the gate passed

``nibble_quantize`` params (all plain values; a DAG run's conf overrides them):
model_uri (``s3a://registry/<model>``), version, recipe, output_uri (default: the registry
convention above), max_kld, max_ppl_increase, min_top1, sequences, sequence_length, seed
(None: the job's own default), overwrite (default True so that retries are idempotent).

Every ``*_args`` function returns the exact ``application_args`` list for one job, using only
the flags each job's parser accepts (see ``nibble <job> --help``).
"""

import json
import posixpath
import re

JOB_CLASSES = {
    "shard": "nibble.jobs.ShardJob",
    "calibrate": "nibble.jobs.CalibrateJob",
    "quantize": "nibble.jobs.QuantizeJob",
    "evaluate": "nibble.jobs.EvaluateJob",
}

DEFAULT_RECIPE = "int4-g128"
# Built-in recipes (conf/recipes/*.json, nibble.common.quant.Recipe.BUILT_IN). A recipe given as a
# JSON file path works too, but then output_uri must be given (a path cannot name a folder).
BUILT_IN_RECIPES = ("int4-g128", "int4-g32", "int4-g32-mse", "int8-channel", "nf4-g64")

PUBLISHED_MARKER = "_PUBLISHED"
QUANTIZED_MANIFEST = "quantized/manifest.json"
EVAL_REPORT = "eval/report.json"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Files whose presence makes a registry folder a checkpoint (or a tensor table) ready to shard.
_CHECKPOINT_FILE = re.compile(r"(\.safetensors|\.bin|^model\.safetensors\.index\.json|^manifest\.json)$")


def _param(params, key, default=None):
    value = params.get(key, default) if hasattr(params, "get") else default
    return default if value is None or value == "" else value


def _strip(uri):
    return uri.rstrip("/") if uri else uri


def _name(value, what):
    value = str(value)
    if not _NAME.match(value):
        raise ValueError("%s %r must be a plain name (letters, digits, '.', '_', '-')" % (what, value))
    return value


def _number(value, what):
    """A finite number, in a form Java's Double.parseDouble accepts."""
    if isinstance(value, bool):
        raise ValueError("%s must be a number, not %r" % (what, value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("%s must be a number, not %r" % (what, value)) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("%s must be finite, not %r" % (what, value))
    return str(value) if isinstance(value, int) else repr(number)


def _whole(value, what):
    if isinstance(value, bool):
        raise ValueError("%s must be a whole number, not %r" % (what, value))
    try:
        number = int(str(value))
    except ValueError:
        raise ValueError("%s must be a whole number, not %r" % (what, value)) from None
    return str(number)


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def paths(params):
    """The input and every output folder of one run, as URIs without a trailing slash.

    The folders are those of nibble.jobs.action.RegistryLayout (tests/RegistryLayoutTest runs this
    function and checks that the two agree).
    """
    model_uri = _strip(_param(params, "model_uri"))
    if not model_uri:
        raise ValueError("param model_uri is required (e.g. s3a://registry/llama-7b)")
    version = _name(_param(params, "version", ""), "version")
    recipe = str(_param(params, "recipe", DEFAULT_RECIPE))
    output = _strip(_param(params, "output_uri"))
    if not output:
        output = "%s/%s-%s" % (model_uri, version, _name(recipe, "recipe"))
    table = output + "/table"
    return {
        "input": "%s/%s" % (model_uri, version),
        "output": output,
        "table": table,
        "stats": table + "/stats",
        "quantized": output + "/quantized",
        "eval": output + "/eval",
        "marker": output + "/" + PUBLISHED_MARKER,
    }


def _overwrite(params):
    return ["--overwrite"] if _truthy(_param(params, "overwrite", True)) else []


def shard_args(params):
    p = paths(params)
    return ["--input", p["input"], "--output", p["table"]] + _overwrite(params)


def calibrate_args(params):
    p = paths(params)
    return ["--input", p["table"], "--output", p["stats"]] + _overwrite(params)


def quantize_args(params):
    p = paths(params)
    recipe = str(_param(params, "recipe", DEFAULT_RECIPE))
    return (["--input", p["table"], "--output", p["quantized"], "--recipe", recipe, "--stats", p["stats"]]
            + _overwrite(params))


def evaluate_args(params):
    p = paths(params)
    args = ["--original", p["table"], "--quantized", p["quantized"], "--output", p["eval"]]
    for key, flag, fmt in (("max_kld", "--max-kld", _number),
                           ("max_ppl_increase", "--max-ppl-increase", _number),
                           ("min_top1", "--min-top1", _number),
                           ("sequences", "--sequences", _whole),
                           ("sequence_length", "--sequence-length", _whole),
                           ("seed", "--seed", _whole)):
        value = _param(params, key)
        if value is not None:
            args += [flag, fmt(value, key)]
    return args + _overwrite(params)


ARG_BUILDERS = {
    "shard": shard_args,
    "calibrate": calibrate_args,
    "quantize": quantize_args,
    "evaluate": evaluate_args,
}


def job_args(job, params):
    """``application_args`` for ``job`` (shard, calibrate, quantize, evaluate)."""
    return ARG_BUILDERS[job](params)


# ---- publish ------------------------------------------------------------------------------------

def publish_plan(params, run_id=None, published_at=None):
    """What publish checks and writes: (files that must exist, marker URI, marker body)."""
    p = paths(params)
    required = [p["output"] + "/" + QUANTIZED_MANIFEST, p["output"] + "/" + EVAL_REPORT]
    body = json.dumps({
        "model_uri": _strip(_param(params, "model_uri")),
        "version": str(_param(params, "version")),
        "recipe": str(_param(params, "recipe", DEFAULT_RECIPE)),
        "quantized": p["quantized"],
        "eval_report": p["output"] + "/" + EVAL_REPORT,
        "dag_run_id": run_id,
        "published_at": published_at,
    }, indent=2, sort_keys=True) + "\n"
    return required, p["marker"], body


def split_s3_uri(uri):
    """``s3a://bucket/a/b`` (or s3://, s3n://) → (bucket, "a/b"); None for other schemes."""
    m = re.match(r"^s3[an]?://([^/]+)/?(.*)$", uri)
    return (m.group(1), m.group(2)) if m else None


# ---- registry sensor ----------------------------------------------------------------------------

def versions_to_quantize(keys, recipe=DEFAULT_RECIPE, in_flight=()):
    """The (model, version) pairs of a registry listing that still need ``recipe``.

    ``keys`` are object keys relative to the registry root (``<model>/<version>/<file>``). A
    version qualifies when its folder holds a checkpoint file (``*.safetensors``, ``*.bin``,
    ``model.safetensors.index.json`` or a tensor table's ``manifest.json``), when it is not
    itself an output folder (``<v>-<built-in recipe>``), and when
    ``<model>/<version>-<recipe>/quantized/manifest.json`` does not exist. Pairs in ``in_flight``
    (runs already queued or running) are left out. Sorted, without duplicates.
    """
    recipe = _name(recipe, "recipe")
    suffixes = tuple("-" + r for r in set(BUILT_IN_RECIPES) | {recipe})
    present = set()
    candidates = set()
    for key in keys:
        key = key.lstrip("/")
        parts = key.split("/")
        if len(parts) < 3 or not parts[0] or not parts[1]:
            continue
        model, folder, rest = parts[0], parts[1], "/".join(parts[2:])
        present.add(key)
        if folder.endswith(suffixes) or not _NAME.match(folder) or not _NAME.match(model):
            continue
        if _CHECKPOINT_FILE.search(posixpath.basename(rest)):
            candidates.add((model, folder))
    skip = {(str(m), str(v)) for m, v in in_flight}
    return sorted(
        (m, v) for m, v in candidates
        if (m, v) not in skip and "%s/%s-%s/%s" % (m, v, recipe, QUANTIZED_MANIFEST) not in present
    )


def trigger_run_id(model, version, recipe=DEFAULT_RECIPE):
    """The one ``nibble_quantize`` run id the sensor uses for (model, version, recipe)."""
    return "registry__%s__%s__%s" % (model, version, recipe)


def trigger_requests(registry_uri, pairs, recipe=DEFAULT_RECIPE):
    """One TriggerDagRunOperator kwargs dict (conf + deterministic run id) per (model, version)."""
    root = _strip(registry_uri)
    out = []
    for model, version in pairs:
        out.append({
            "trigger_run_id": trigger_run_id(model, version, recipe),
            "conf": {"model_uri": "%s/%s" % (root, model), "version": version, "recipe": recipe},
        })
    return out


# ---- local registries (file: URIs and plain paths) ----------------------------------------------

def local_path(uri):
    """``file:///a/b``, ``file:/a/b`` or ``/a/b`` → ``/a/b``; ValueError for other schemes."""
    uri = str(uri)
    if uri.startswith("file://"):
        return uri[len("file://"):] or "/"
    if uri.startswith("file:"):
        return uri[len("file:"):]
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", uri):
        raise ValueError("not a local path: %r" % uri)
    return uri


def local_keys(registry_uri):
    """Every file under a local registry as ``<model>/<version>/...`` keys (what S3 would list)."""
    import os
    root = local_path(_strip(registry_uri)) or "/"
    keys = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            keys.append(os.path.relpath(os.path.join(folder, f), root).replace(os.sep, "/"))
    return keys
