package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DAGs of {@code airflow-dags/} inside real Airflow 3 ({@code .venv}, pinned by
 * {@code tests/src/test/python/airflow-requirements.txt}), submitting the shaded jar with pyspark's
 * real {@code spark-submit}: {@code airflow dags test} against a SQLite metadata database in a
 * temporary AIRFLOW_HOME (one for all cases), a {@code spark_default} connection to
 * {@code local[2]}, and a local registry folder holding stories260K.
 *
 * <ul>
 *   <li>{@code nibble_quantize}: every task succeeds, the tables, statistics and report equal a
 *       {@code nibble pipeline} run's, and {@code _PUBLISHED} is written;</li>
 *   <li>the same with {@code max_kld} tiny: {@code evaluate} fails with spark-submit's exit code 4
 *       after one try, {@code publish} does not run, nothing is published;</li>
 *   <li>{@code nibble_registry_sensor}: a version added to the registry is triggered once (one queued
 *       {@code nibble_quantize} run with the right conf); quantized and in-flight versions are not;</li>
 *   <li>{@code nibble_quantize} against the S3Proxy registry of the S3 tests ({@code s3a://} paths,
 *       publish through the Amazon provider): the same output, {@code _PUBLISHED} on S3, no secret in
 *       any log;</li>
 *   <li>{@code nibble_quantize} with {@code spark_default} pointing at a standalone cluster (Master and
 *       2 Workers, started once in that case): every task succeeds, the same output.</li>
 * </ul>
 * Skips with a printed reason when {@code .venv} has no Airflow or the shaded jar is absent; fails
 * under CI.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AirflowDagTest {
    static final String RUN_ARGS = "\"sequences\": 4, \"sequence_length\": 16";
    static final long DAG_TIMEOUT_S = 900;

    @TempDir
    static Path work;
    static Path home;
    static Path registry;
    static Path logs;
    static Map<String, String> env;
    static long setupNanos;

    static Path project() {
        return GgufShardTest.project();
    }

    static Path venvBin(String tool) {
        return project().resolve(".venv/bin").resolve(tool);
    }

    static void requireOrSkip(String problem) {
        if (problem == null) {
            return;
        }
        if (System.getenv("CI") != null) {
            fail(problem + " (CI must run .ci/run, which installs .venv)");
        }
        System.out.println("skipping AirflowDagTest: " + problem);
        Assumptions.abort(problem);
    }

    @BeforeAll
    static void airflowHome() throws Exception {
        long t0 = System.nanoTime();
        requireOrSkip(Files.isExecutable(venvBin("airflow")) && Files.isExecutable(venvBin("spark-submit"))
                ? null : venvBin("airflow") + " or spark-submit not found (run .ci/venv)");
        String jar = System.getProperty("nibble.shaded.jar");
        requireOrSkip(jar != null && Files.isRegularFile(Path.of(jar)) ? null
                : "the shaded jar " + jar + " is absent (run through Maven's verify, which packages jobs first)");
        Path stories = TestSpark.stories260K();
        requireOrSkip(stories != null && Files.isRegularFile(stories) ? null : "../shared/models/stories260K.bin not found");

        home = Files.createDirectories(work.resolve("airflow-home"));
        logs = Files.createDirectories(work.resolve("logs"));
        // The install of docs/AIRFLOW.md: the three files, not the tests folder, in the dags folder.
        Path dags = Files.createDirectories(work.resolve("dags"));
        for (String f : List.of("nibble_quantize.py", "nibble_registry_sensor.py", "nibble_args.py")) {
            Files.copy(project().resolve("airflow-dags").resolve(f), dags.resolve(f));
        }
        // spark-submit's configuration: small driver, no UI, loopback only, Nibble's log4j2 settings.
        Path sparkConf = Files.createDirectories(work.resolve("spark-conf"));
        Files.writeString(sparkConf.resolve("spark-defaults.conf"), String.join("\n",
                "spark.driver.memory 1g",
                "spark.ui.enabled false",
                "spark.ui.showConsoleProgress false",
                "spark.driver.host 127.0.0.1",
                "spark.driver.bindAddress 127.0.0.1",
                "spark.sql.shuffle.partitions 4",
                "spark.local.dir " + work.resolve("spark-local"), ""));
        Files.copy(project().resolve("conf/log4j2.properties"), sparkConf.resolve("log4j2.properties"));

        env = new TreeMap<>();
        env.put("AIRFLOW_HOME", home.toString());
        env.put("AIRFLOW__CORE__DAGS_FOLDER", dags.toString());
        env.put("AIRFLOW__CORE__LOAD_EXAMPLES", "False");
        env.put("AIRFLOW__LOGGING__BASE_LOG_FOLDER", logs.toString());
        // an activated .venv: its spark-submit and python3 (which spark-submit uses to find pyspark)
        env.put("PATH", venvBin("").toString() + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("VIRTUAL_ENV", project().resolve(".venv").toString());
        env.put("SPARK_CONF_DIR", sparkConf.toString());
        env.put("SPARK_LOCAL_IP", "127.0.0.1");

        registry = Files.createDirectories(work.resolve("registry"));
        Files.createDirectories(registry.resolve("stories/v1"));
        Files.copy(stories, registry.resolve("stories/v1/stories260K.bin"));

        airflow("db-migrate", 300, "db", "migrate");
        airflow("connection", 120, "connections", "add", "spark_default", "--conn-type", "spark", "--conn-host", "local[2]");
        airflow("variable", 120, "variables", "set", "nibble_application_jar", jar);
        // both DAGs into the database, so that the sensor can trigger nibble_quantize
        airflow("reserialize", 300, "dags", "reserialize");
        setupNanos = System.nanoTime() - t0;
        System.out.printf("AirflowDagTest: AIRFLOW_HOME with SQLite, spark_default=local[2], DAGs serialized in %.1f s%n", setupNanos / 1e9);
    }

    @AfterAll
    static void report() {
        if (env != null) {
            System.out.printf("AirflowDagTest: set-up %.1f s%n", setupNanos / 1e9);
        }
    }

    // ---- quantize DAG --------------------------------------------------------------------------

    @Test
    @Order(1)
    void quantizeDagEqualsPipelineAndPublishes() throws Exception {
        String modelUri = "file://" + registry.resolve("stories");
        String conf = "{\"model_uri\": \"" + modelUri + "\", \"version\": \"v1\", " + RUN_ARGS + "}";
        long t0 = System.nanoTime();
        Result r = airflow("dag-quantize", DAG_TIMEOUT_S, "dags", "test", "nibble_quantize", "-c", conf);
        System.out.printf("AirflowDagTest: nibble_quantize (5 tasks, 4 spark-submits) in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        JsonNode run = assertEveryTaskSucceededOnce(r);
        for (String job : List.of("ShardJob", "CalibrateJob", "QuantizeJob", "EvaluateJob")) {
            assertTrue(r.output().contains("spark-submit --master local[2] --name nibble-") && r.output().contains("--class nibble.jobs." + job),
                    "spark-submit of " + job + " not in the log");
        }

        Path out = registry.resolve("stories/v1-int4-g128");
        Path marker = out.resolve("_PUBLISHED");
        assertTrue(Files.isRegularFile(marker), "_PUBLISHED written");
        JsonNode published = new ObjectMapper().readTree(marker.toFile());
        assertEquals(modelUri, published.get("model_uri").asText());
        assertEquals("v1", published.get("version").asText());
        assertEquals("int4-g128", published.get("recipe").asText());
        assertEquals("file://" + out.resolve("quantized"), published.get("quantized").asText());
        assertEquals(run.get("run_id").asText(), published.get("dag_run_id").asText());
        assertFalse(Files.exists(out.resolve("_SUCCESS")), "the DAG publishes; _SUCCESS is the pipeline's");

        // the same input through `nibble pipeline`, in process
        Path ref = pipelineReference();
        int compared = assertSameOutput(ref, out);
        assertTrue(compared >= 11, compared + " files compared");
        JsonNode report = new ObjectMapper().readTree(out.resolve("eval/report.json").toFile());
        assertTrue(report.get("gate").get("passed").asBoolean());
        assertEquals(4, report.get("model").get("sequences").asInt());
        System.out.println("AirflowDagTest: " + compared + " files of the DAG's output equal `nibble pipeline`'s");
    }

    // ---- failing gate --------------------------------------------------------------------------

    @Test
    @Order(2)
    void failingGateFailsEvaluateOnceAndDoesNotPublish() throws Exception {
        Path out = work.resolve("gate-out");
        String conf = "{\"model_uri\": \"file://" + registry.resolve("stories") + "\", \"version\": \"v1\", "
                + "\"output_uri\": \"file://" + out + "\", \"max_kld\": 1e-9, " + RUN_ARGS + "}";
        long t0 = System.nanoTime();
        Result r = airflow("dag-gate", DAG_TIMEOUT_S, "dags", "test", "nibble_quantize", "-c", conf);
        System.out.printf("AirflowDagTest: nibble_quantize with a failing gate in %.1f s (airflow exit %d)%n",
                (System.nanoTime() - t0) / 1e9, r.code());
        JsonNode run = lastRun("nibble_quantize");
        assertEquals("failed", run.get("state").asText(), r.tail());
        for (String task : List.of("shard", "calibrate", "quantize")) {
            assertEquals("success", run.get("tasks").get(task).get("state").asText(), task);
        }
        JsonNode evaluate = run.get("tasks").get("evaluate");
        assertEquals("failed", evaluate.get("state").asText());
        assertEquals(1, evaluate.get("try_number").asInt(), "evaluate is not retried");
        assertEquals(0, evaluate.get("max_tries").asInt(), "evaluate has no retries left to take");
        assertEquals("upstream_failed", run.get("tasks").get("publish").get("state").asText());
        assertTrue(r.output().lines().anyMatch(l -> l.contains("--class nibble.jobs.EvaluateJob") && l.contains("Error code is: 4.")),
                "spark-submit of EvaluateJob exited 4:\n" + r.tail());
        assertEquals(1, r.output().lines().filter(l -> l.contains("Cannot execute: spark-submit")).count(),
                "one failed spark-submit, no retry:\n" + r.tail());
        JsonNode report = new ObjectMapper().readTree(out.resolve("eval/report.json").toFile());
        assertFalse(report.get("gate").get("passed").asBoolean(), "the report records the failed gate");
        assertTrue(Files.isRegularFile(out.resolve("quantized/manifest.json")));
        assertFalse(Files.exists(out.resolve("_PUBLISHED")), "a failed gate publishes nothing");
    }

    // ---- registry sensor -----------------------------------------------------------------------

    @Test
    @Order(3)
    void sensorTriggersANewVersionOnce() throws Exception {
        // its own registry: a quantized version (only its quantized manifest matters to the sensor)
        Path reg = Files.createDirectories(work.resolve("sensor-registry"));
        Files.createDirectories(reg.resolve("stories/v1"));
        Files.copy(TestSpark.stories260K(), reg.resolve("stories/v1/stories260K.bin"));
        Files.createDirectories(reg.resolve("stories/v1-int4-g128/quantized"));
        Files.writeString(reg.resolve("stories/v1-int4-g128/quantized/manifest.json"), "{}");
        String conf = "{\"registry_uri\": \"file://" + reg + "\"}";
        String runId = "registry__stories__v2__int4-g128";

        Result before = airflow("sensor-1", 300, "dags", "test", "nibble_registry_sensor", "-c", conf);
        assertEquals(0, before.code(), before.tail());
        assertEquals(List.of(), triggeredRuns(), "nothing new in the registry: nothing triggered");

        Files.createDirectories(reg.resolve("stories/v2"));
        Files.copy(TestSpark.stories260K(), reg.resolve("stories/v2/stories260K.bin"));
        Result added = airflow("sensor-2", 300, "dags", "test", "nibble_registry_sensor", "-c", conf);
        assertEquals(0, added.code(), added.tail());
        List<JsonNode> runs = triggeredRuns();
        assertEquals(1, runs.size(), runs.toString());
        JsonNode run = runs.get(0);
        assertEquals(runId, run.get("run_id").asText());
        assertEquals("queued", run.get("state").asText());
        JsonNode c = new ObjectMapper().readTree(run.get("conf").asText());
        assertEquals("file://" + reg.resolve("stories"), c.get("model_uri").asText());
        assertEquals("v2", c.get("version").asText());
        assertEquals("int4-g128", c.get("recipe").asText());
        assertEquals(3, c.size(), c.toString());

        // the next tick: v2's run is still queued, so it is not triggered again
        Result again = airflow("sensor-3", 300, "dags", "test", "nibble_registry_sensor", "-c", conf);
        assertEquals(0, again.code(), again.tail());
        List<JsonNode> after = triggeredRuns();
        assertEquals(1, after.size(), after.toString());
        assertEquals(run.get("id").asLong(), after.get(0).get("id").asLong());
        assertNotEquals(again.output(), "", "airflow printed nothing");
        assertTrue(again.output().contains("Returned value was: []"), "find_versions returned nothing:\n" + again.tail());
    }

    /** {@code nibble pipeline} on the local registry's v1 (in process, once): what every DAG run must equal. */
    static Path pipelineReference() {
        Path ref = work.resolve("pipeline-ref");
        if (!Files.isRegularFile(ref.resolve("_SUCCESS"))) {
            TestSpark.Run p = TestSpark.nibble("pipeline", "--input", "file://" + registry.resolve("stories") + "/v1",
                    "--output", "file://" + ref, "--recipe", "int4-g128", "--sequences", "4", "--sequence-length", "16");
            assertEquals(0, p.code(), p.err());
        }
        return ref;
    }

    // ---- S3 registry -----------------------------------------------------------------------------

    /**
     * {@code nibble_quantize} against the S3Proxy registry of the S3 tests: {@code s3a://} paths for
     * every job (S3A settings and the committer of S3PipelineTest in a {@code spark-defaults.conf}, the
     * hadoop-aws, AWS SDK and spark-hadoop-cloud jars of the test classpath on the driver's), and
     * {@code publish} through the Amazon provider's S3Hook with an {@code aws_default} connection to the
     * same endpoint. Every task succeeds; the files equal the local {@code nibble pipeline} run's (case 1)
     * once the input and output locations are placeholders; {@code _PUBLISHED} is an object on S3; the
     * secret key appears in no log. Then, on the same store, a failing gate ({@code max_kld} tiny) fails
     * {@code evaluate} once without a retry and publishes nothing, and {@code nibble_registry_sensor}
     * on {@code s3a://registry} triggers a newly added version once.
     */
    @Test
    @Order(4)
    void quantizeDagOnAnS3RegistryEqualsPipelineAndPublishes() throws Exception {
        requireOrSkip(S3Server.jar() != null ? null : "the S3Proxy jar is absent (run through Maven)");
        Path ref = pipelineReference();
        String secret = "airflowS3SECRET" + Long.toHexString(System.nanoTime());
        try (S3Server s3 = new S3Server(Files.createDirectories(work.resolve("s3")), "airflow-test-id", secret, "registry")) {
            s3.start();
            // the checkpoint, uploaded through S3A (an object needs an ETag; S3Proxy's filesystem backend
            // keeps objects as files under its base folder, where the comparison below reads them)
            Path bucket = s3.baseDir.resolve("registry");
            org.apache.hadoop.conf.Configuration hadoop = new org.apache.hadoop.conf.Configuration();
            for (String[] kv : s3.s3aSettings()) {
                hadoop.set(kv[0], kv[1]);
            }
            uploadStories(hadoop, "s3a://registry/stories/v1/stories260K.bin");

            Path conf = Files.createDirectories(work.resolve("spark-conf-s3"));
            List<String> lines = new ArrayList<>(Files.readAllLines(work.resolve("spark-conf/spark-defaults.conf")));
            for (String[] kv : s3.s3aSettings()) {
                lines.add("spark.hadoop." + kv[0] + " " + kv[1]);
            }
            lines.add("spark.sql.sources.commitProtocolClass org.apache.spark.internal.io.cloud.PathOutputCommitProtocol");
            lines.add("spark.sql.parquet.output.committer.class org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter");
            lines.add("spark.driver.extraClassPath " + String.join(":", s3aJars()));
            Files.write(conf.resolve("spark-defaults.conf"), lines);
            Files.copy(work.resolve("spark-conf/log4j2.properties"), conf.resolve("log4j2.properties"));

            // aws_default for publish: from the environment (never in the database, never on a command line)
            String awsConn = new ObjectMapper().writeValueAsString(Map.of("conn_type", "aws", "login", s3.identity,
                    "password", secret, "extra", Map.of("endpoint_url", s3.endpoint(), "region_name", "us-east-1",
                            "config_kwargs", Map.of("s3", Map.of("addressing_style", "path")))));
            Map<String, String> extra = Map.of("SPARK_CONF_DIR", conf.toString(), "AIRFLOW_CONN_AWS_DEFAULT", awsConn);
            String conf1 = "{\"model_uri\": \"s3a://registry/stories\", \"version\": \"v1\", " + RUN_ARGS + "}";
            long t0 = System.nanoTime();
            Result r = airflowWith(extra, "dag-s3", DAG_TIMEOUT_S, "dags", "test", "nibble_quantize", "-c", conf1);
            System.out.printf("AirflowDagTest: nibble_quantize on the S3Proxy registry in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            JsonNode run = assertEveryTaskSucceededOnce(r);
            assertTrue(r.output().contains("--input s3a://registry/stories/v1 --output s3a://registry/stories/v1-int4-g128/table"),
                    "shard read and wrote s3a:// URIs:\n" + r.tail());

            Path out = bucket.resolve("stories/v1-int4-g128");
            Path marker = out.resolve("_PUBLISHED");
            assertTrue(Files.isRegularFile(marker), "_PUBLISHED written to the bucket");
            JsonNode published = new ObjectMapper().readTree(marker.toFile());
            assertEquals("s3a://registry/stories/v1-int4-g128/quantized", published.get("quantized").asText());
            assertEquals(run.get("run_id").asText(), published.get("dag_run_id").asText());

            String s3Out = "s3a://registry/stories/v1-int4-g128";
            String s3In = "s3a://registry/stories/v1";
            String localIn = "file:" + registry.resolve("stories/v1");
            int compared = assertSameOutput(ref,
                    t -> placeholder(t, ref).replace(localIn, "<input>").replace(registry.resolve("stories/v1").toString(), "<input>"),
                    out, t -> new String(t, StandardCharsets.UTF_8).replace(s3Out, "<output>").replace(s3In, "<input>"));
            assertTrue(compared >= 11, compared + " files compared");

            // a healthy store: no failed attempt is printed (S3A's 404 probes and its other debug lines are not)
            assertEquals(List.of(), r.output().lines().filter(l -> l.contains("[s3a] attempt failed")).toList());
            // no log holds the secret: airflow's output, the task logs
            assertFalse(r.output().contains(secret), "the secret in airflow's output");
            try (var files = Files.walk(logs)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    assertFalse(Files.readString(f, StandardCharsets.ISO_8859_1).contains(secret), "the secret in " + f);
                }
            }
            System.out.println("AirflowDagTest: S3 registry: " + compared + " files equal `nibble pipeline`'s; no log holds the secret");

            // the failing gate on S3: evaluate exits 4 and is not retried, publish does not run. The output folder ends
            // in a recipe name, so the registry sensor below takes it for an output, not for a version.
            String conf2 = "{\"model_uri\": \"s3a://registry/stories\", \"version\": \"v1\", "
                    + "\"output_uri\": \"s3a://registry/stories/v1-gate-int4-g128\", \"max_kld\": 1e-9, " + RUN_ARGS + "}";
            Result gate = airflowWith(extra, "dag-s3-gate", DAG_TIMEOUT_S, "dags", "test", "nibble_quantize", "-c", conf2);
            JsonNode failed = lastRun("nibble_quantize");
            assertEquals("failed", failed.get("state").asText(), gate.tail());
            JsonNode evaluate = failed.get("tasks").get("evaluate");
            assertEquals("failed", evaluate.get("state").asText(), gate.tail());
            assertEquals(1, evaluate.get("try_number").asInt(), "evaluate is not retried");
            assertEquals("upstream_failed", failed.get("tasks").get("publish").get("state").asText());
            assertTrue(gate.output().lines().anyMatch(l -> l.contains("--class nibble.jobs.EvaluateJob") && l.contains("Error code is: 4.")),
                    "spark-submit of EvaluateJob exited 4:\n" + gate.tail());
            assertTrue(Files.isRegularFile(bucket.resolve("stories/v1-gate-int4-g128/quantized/manifest.json")));
            assertFalse(Files.exists(bucket.resolve("stories/v1-gate-int4-g128/_PUBLISHED")), "a failed gate publishes nothing");
            assertFalse(gate.output().contains(secret), "the secret in airflow's output");

            // the registry sensor on s3a:// (the Amazon provider's S3Hook lists the bucket): a version added is triggered once
            uploadStories(hadoop, "s3a://registry/tales/v2/stories260K.bin");
            Result tick = airflowWith(extra, "sensor-s3", 300, "dags", "test", "nibble_registry_sensor", "-c",
                    "{\"registry_uri\": \"s3a://registry\"}");
            assertEquals(0, tick.code(), tick.tail());
            List<JsonNode> s3Runs = triggeredRuns().stream().filter(j -> j.get("run_id").asText().contains("__tales__")).toList();
            assertEquals(1, s3Runs.size(), "only the new version, stories/v1 is quantized: " + s3Runs);
            assertEquals("registry__tales__v2__int4-g128", s3Runs.get(0).get("run_id").asText());
            JsonNode c = new ObjectMapper().readTree(s3Runs.get(0).get("conf").asText());
            assertEquals("s3a://registry/tales", c.get("model_uri").asText());
            assertEquals("v2", c.get("version").asText());
            assertFalse(tick.output().contains(secret), "the secret in the sensor's output");
            System.out.println("AirflowDagTest: S3 registry: a failing gate publishes nothing; the sensor triggers the new version");
        }
    }

    /** Uploads stories260K through S3A (an object needs an ETag, which a file dropped into S3Proxy's folder lacks). */
    static void uploadStories(org.apache.hadoop.conf.Configuration hadoop, String uri) throws Exception {
        try (org.apache.hadoop.fs.FileSystem fs = org.apache.hadoop.fs.FileSystem.newInstance(java.net.URI.create("s3a://registry/"), hadoop)) {
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(TestSpark.stories260K().toUri()), new org.apache.hadoop.fs.Path(uri));
        }
    }

    /** The jars S3A and the cloud committer need on a pyspark driver: hadoop-aws, the AWS SDK, spark-hadoop-cloud. */
    static List<String> s3aJars() {
        List<String> jars = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (e.contains("/org/apache/hadoop/hadoop-aws/") || e.contains("/software/amazon/")
                    || e.contains("/org/apache/spark/spark-hadoop-cloud_")) {
                jars.add(e);
            }
        }
        assertTrue(jars.stream().anyMatch(j -> j.contains("hadoop-aws")), "hadoop-aws on the test classpath: " + jars);
        return jars;
    }

    // ---- standalone cluster --------------------------------------------------------------------

    /**
     * {@code nibble_quantize} with {@code spark_default} pointing at a standalone cluster (Master and
     * 2 Workers on loopback, started as StandaloneClusterTest starts them): the 4 spark-submits run
     * their executors on the Workers; every task succeeds and the output equals the local pipeline's.
     * {@code spark_default} is set back to {@code local[2]} afterwards.
     */
    @Test
    @Order(5)
    void quantizeDagOnAStandaloneCluster() throws Exception {
        Path ref = pipelineReference();
        long t0 = System.nanoTime();
        try (StandaloneCluster cluster = new StandaloneCluster(work.resolve("cluster"), 2)) {
            System.out.printf("AirflowDagTest: standalone cluster %s up in %.1f s%n", cluster.url(), (System.nanoTime() - t0) / 1e9);
            Path conf = Files.createDirectories(work.resolve("spark-conf-cluster"));
            List<String> lines = new ArrayList<>(Files.readAllLines(work.resolve("spark-conf/spark-defaults.conf")));
            List<String> submit = cluster.submitConf();
            for (int i = 0; i < submit.size(); i += 2) {
                if (submit.get(i).equals("--conf")) {
                    String kv = submit.get(i + 1);
                    int eq = kv.indexOf('=');
                    lines.add(kv.substring(0, eq) + " " + kv.substring(eq + 1));
                }
            }
            Files.write(conf.resolve("spark-defaults.conf"), lines);
            Files.copy(work.resolve("spark-conf/log4j2.properties"), conf.resolve("log4j2.properties"));
            airflow("conn-cluster-1", 120, "connections", "delete", "spark_default");
            airflow("conn-cluster-2", 120, "connections", "add", "spark_default", "--conn-type", "spark",
                    "--conn-host", "spark://127.0.0.1", "--conn-port", String.valueOf(cluster.port));
            try {
                Path out = work.resolve("cluster-out");
                String c = "{\"model_uri\": \"file://" + registry.resolve("stories") + "\", \"version\": \"v1\", "
                        + "\"output_uri\": \"file://" + out + "\", " + RUN_ARGS + "}";
                long t1 = System.nanoTime();
                Result r = airflowWith(Map.of("SPARK_CONF_DIR", conf.toString()), "dag-cluster", DAG_TIMEOUT_S,
                        "dags", "test", "nibble_quantize", "-c", c);
                System.out.printf("AirflowDagTest: nibble_quantize on the standalone cluster in %.1f s%n", (System.nanoTime() - t1) / 1e9);
                JsonNode run = assertEveryTaskSucceededOnce(r);
                for (String job : List.of("ShardJob", "CalibrateJob", "QuantizeJob", "EvaluateJob")) {
                    assertTrue(r.output().lines().anyMatch(l -> l.contains("spark-submit --master " + cluster.url())
                            && l.contains("--class nibble.jobs." + job)), "spark-submit of " + job + " to the cluster:\n" + r.tail());
                }
                // the Master ran one application per job, and they finished
                String master = cluster.logText("master");
                assertEquals(4, master.lines().filter(l -> l.contains("Registered app nibble ")).count(), StandaloneCluster.tail(master));
                assertTrue(Files.isRegularFile(out.resolve("_PUBLISHED")), "_PUBLISHED written");
                int compared = assertSameOutput(ref, out);
                assertTrue(compared >= 11, compared + " files compared");
                System.out.println("AirflowDagTest: standalone cluster: " + compared + " files equal `nibble pipeline`'s");
            } finally {
                airflow("conn-local-1", 120, "connections", "delete", "spark_default");
                airflow("conn-local-2", 120, "connections", "add", "spark_default", "--conn-type", "spark", "--conn-host", "local[2]");
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    record Result(int code, String output) {
        String tail() {
            return StandaloneCluster.tail(output);
        }
    }

    /** Runs {@code .venv/bin/airflow args...}; its output goes to a log file as well. */
    static Result airflow(String name, long timeoutSeconds, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(venvBin("airflow").toString());
        cmd.addAll(List.of(args));
        return run(name, timeoutSeconds, cmd);
    }

    /** {@link #airflow} with {@code extraEnv} over the common environment (e.g. another SPARK_CONF_DIR). */
    static Result airflowWith(Map<String, String> extraEnv, String name, long timeoutSeconds, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(venvBin("airflow").toString());
        cmd.addAll(List.of(args));
        return run(name, timeoutSeconds, cmd, extraEnv);
    }

    static Result run(String name, long timeoutSeconds, List<String> cmd) throws Exception {
        return run(name, timeoutSeconds, cmd, Map.of());
    }

    static Result run(String name, long timeoutSeconds, List<String> cmd, Map<String, String> extraEnv) throws Exception {
        Path log = logs.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        pb.environment().putAll(extraEnv);
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            fail(name + ": " + String.join(" ", cmd.subList(0, Math.min(4, cmd.size()))) + " did not finish within "
                    + timeoutSeconds + " s:\n" + StandaloneCluster.tail(Files.readString(log, StandardCharsets.UTF_8)));
        }
        String text = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            System.out.println(name + " exited " + p.exitValue());
        }
        return new Result(p.exitValue(), text);
    }

    /** The metadata database, read with Python's sqlite3 (Airflow 3 offers no CLI for task tries). */
    static JsonNode query(String sql, String... params) throws Exception {
        String code = "import json, sqlite3, sys\n"
                + "c = sqlite3.connect(sys.argv[1]); c.row_factory = sqlite3.Row\n"
                + "print(json.dumps([dict(r) for r in c.execute(sys.argv[2], sys.argv[3:])], default=str))\n";
        List<String> cmd = new ArrayList<>(List.of(venvBin("python").toString(), "-c", code,
                home.resolve("airflow.db").toString(), sql));
        cmd.addAll(List.of(params));
        Result r = run("sqlite", 60, cmd);
        assertEquals(0, r.code(), r.output());
        return new ObjectMapper().readTree(r.output());
    }

    /** The latest run of the DAG: run_id, state and {task_id: {state, try_number, max_tries}}. */
    static JsonNode lastRun(String dagId) throws Exception {
        JsonNode runs = query("select id, run_id, state from dag_run where dag_id = ? order by id desc limit 1", dagId);
        assertEquals(1, runs.size(), "a run of " + dagId);
        var run = (com.fasterxml.jackson.databind.node.ObjectNode) runs.get(0);
        var tasks = run.putObject("tasks");
        for (JsonNode ti : query("select task_id, state, try_number, max_tries from task_instance where dag_id = ? and run_id = ?",
                dagId, run.get("run_id").asText())) {
            tasks.set(ti.get("task_id").asText(), ti);
        }
        return run;
    }

    /** Airflow exited 0 and the last nibble_quantize run succeeded, each of its tasks on its first try; that run. */
    static JsonNode assertEveryTaskSucceededOnce(Result r) throws Exception {
        assertEquals(0, r.code(), r.tail());
        JsonNode run = lastRun("nibble_quantize");
        assertEquals("success", run.get("state").asText(), r.tail());
        for (String task : List.of("shard", "calibrate", "quantize", "evaluate", "publish")) {
            JsonNode ti = run.get("tasks").get(task);
            assertEquals("success", ti.get("state").asText(), task);
            assertEquals(1, ti.get("try_number").asInt(), task + " ran once");
        }
        return run;
    }

    /** nibble_quantize runs the sensor made (run ids registry__...). */
    static List<JsonNode> triggeredRuns() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        query("select id, run_id, state, conf from dag_run where dag_id = 'nibble_quantize' and run_id like 'registry\\_\\_%' escape '\\' order by id")
                .forEach(out::add);
        return out;
    }

    /**
     * Every file of {@code expected} (a {@code nibble pipeline} output) is in {@code actual} with the
     * same content: Parquet as {@link Tables#assertSameParquet} compares files of two JVMs, other
     * files byte for byte once {@code file:///} is written {@code file:/} (as Hadoop qualifies it) and
     * each output's own location is replaced by a placeholder. Hadoop's
     * {@code .crc} side files and the markers ({@code _SUCCESS}, {@code _PUBLISHED}) are left out.
     */
    static String placeholder(byte[] text, Path location) {
        String p = location.toString();
        // file:///x and file:/x (Hadoop's qualified form) are the same URI
        return new String(text, StandardCharsets.UTF_8).replace("file:///", "file:/").replace("file:" + p, "<output>")
                .replace(p, "<output>");
    }

    static int assertSameOutput(Path expected, Path actual) throws Exception {
        return assertSameOutput(expected, t -> placeholder(t, expected), actual, t -> placeholder(t, actual));
    }

    /**
     * As {@link #assertSameOutput(Path, Path)}, with each side's text files made location-free by its
     * own function (an S3 output names {@code s3a://} URIs where a local one names paths).
     */
    static int assertSameOutput(Path expected, java.util.function.Function<byte[], String> expectedText, Path actual,
                                java.util.function.Function<byte[], String> actualText) throws Exception {
        Map<String, byte[]> e = Tables.files(expected);
        Map<String, byte[]> a = Tables.files(actual);
        for (Map<String, byte[]> m : List.of(e, a)) {
            m.keySet().removeIf(k -> k.endsWith(".crc") || k.equals("_SUCCESS") || k.equals("_PUBLISHED"));
        }
        assertEquals(new TreeSet<>(e.keySet()), new TreeSet<>(a.keySet()), "files");
        for (String k : new TreeSet<>(e.keySet())) {
            if (k.endsWith(".parquet")) {
                Tables.assertSameParquet(e.get(k), a.get(k), actual + "/" + k);
            } else {
                assertEquals(expectedText.apply(e.get(k)), actualText.apply(a.get(k)), k);
            }
        }
        return e.size();
    }
}
