package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.synth.SyntheticCheckpoint;
import nibble.common.synth.SyntheticSpec;
import nibble.common.quant.Recipe;
import nibble.common.report.Gate;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;
import nibble.jobs.action.EvaluateArgs;
import nibble.jobs.action.PipelineAction;
import nibble.jobs.action.PipelineArgs;
import nibble.jobs.action.PipelineResult;
import nibble.jobs.action.RegistryLayout;
import nibble.jobs.table.OutputClaim;

/**
 * The pipeline against a real S3 server (S3Proxy on loopback, its own process) through S3A and the
 * magic committer: same result as a local run, idempotent, never leaks the secret key, and a server
 * that dies mid-write leaves nothing that looks complete.
 */
class S3PipelineTest {
    private static final String SECRET = "nibble-test-SECRET-" + Long.toHexString(System.nanoTime());
    private static final String[] SQL_CONFS = S3PipelineTestSupport.CLOUD_COMMIT;

    @TempDir
    static Path work;
    private static S3Server s3;
    private static SparkSession spark;
    private static final List<String> setKeys = new ArrayList<>();

    @BeforeAll
    static void startS3() throws Exception {
        Assumptions.assumeTrue(S3Server.jar() != null, "the S3Proxy jar is absent (run through Maven: it copies it to target/s3proxy)");
        s3 = new S3Server(work, "nibble-test-id", SECRET, "registry");
        s3.start();
        spark = TestSpark.session();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        for (String[] kv : s3.s3aSettings()) {
            conf.set(kv[0], kv[1]);
            setKeys.add(kv[0]);
        }
        for (int i = 0; i < SQL_CONFS.length; i += 2) {
            spark.conf().set(SQL_CONFS[i], SQL_CONFS[i + 1]);
        }
    }

    @AfterAll
    static void stopS3() throws Exception {
        if (spark != null) {
            for (int i = 0; i < SQL_CONFS.length; i += 2) {
                spark.conf().unset(SQL_CONFS[i]);
            }
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            FileSystem.get(URI.create("s3a://registry/"), conf).close();
            setKeys.forEach(conf::unset);
        }
        if (s3 != null) {
            s3.close();
        }
    }

    private static Configuration conf() {
        return spark.sparkContext().hadoopConfiguration();
    }

    /** Runs a command with the cloud committer settings off (a plain local run). */
    private static TestSpark.Run local(String... args) {
        for (int i = 0; i < SQL_CONFS.length; i += 2) {
            spark.conf().unset(SQL_CONFS[i]);
        }
        try {
            return TestSpark.nibble(args);
        } finally {
            for (int i = 0; i < SQL_CONFS.length; i += 2) {
                spark.conf().set(SQL_CONFS[i], SQL_CONFS[i + 1]);
            }
        }
    }

    private static void upload(Path local, String s3Uri) throws Exception {
        org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(local.toUri());
        org.apache.hadoop.fs.Path dst = new org.apache.hadoop.fs.Path(s3Uri);
        FileSystem dfs = dst.getFileSystem(conf());
        dfs.mkdirs(dst);
        for (Path f : Files.list(local).sorted().toList()) {
            assertTrue(FileUtil.copy(src.getFileSystem(conf()), new org.apache.hadoop.fs.Path(f.toUri()), dfs,
                    new org.apache.hadoop.fs.Path(dst, f.getFileName().toString()), false, conf()));
        }
    }

    /** Every object under the prefix: relative path → "length@mtime". */
    private static Map<String, String> listing(String uri) throws Exception {
        org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(uri);
        FileSystem fs = root.getFileSystem(conf());
        Map<String, String> out = new TreeMap<>();
        String prefix = fs.makeQualified(root).toString();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
            LocatedFileStatus s = it.next();
            out.put(s.getPath().toString().substring(prefix.length()).replaceFirst("^/", ""), s.getLen() + "@" + s.getModificationTime());
        }
        return out;
    }

    private static byte[] read(String uri) throws Exception {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
        try (var in = p.getFileSystem(conf()).open(p)) {
            return in.readAllBytes();
        }
    }

    private static List<Row> rows(String table) {
        return spark.read().parquet(table + "/tensors").orderBy("tensor", "row").collectAsList();
    }

    @Test
    void pipelineOnS3MatchesLocalIsIdempotentAndNeverLeaksTheSecret() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(work.resolve("tiny"), DType.F32, 0);
        Path localOut = work.resolve("local-out");
        String[] tail = {"--recipe", "int4-g128", "--sequences", "4", "--sequence-length", "16"};
        TestSpark.Run ref = local(concat(new String[] {"pipeline", "--input", ckpt.toString(), "--output", localOut.toString()}, tail));
        assertEquals(0, ref.code(), ref.err());

        String src = "s3a://registry/tiny/v1/";
        String out = "s3a://registry/tiny/v1-int4-g128/";
        upload(ckpt, src);
        StringBuilder printed = new StringBuilder();
        String logs;
        try (LogCapture log = new LogCapture()) {
            TestSpark.Run r = TestSpark.nibble(concat(new String[] {"pipeline", "--input", src, "--output", out}, tail));
            printed.append(r.out()).append(r.err());
            assertEquals(0, r.code(), r.err());
            for (String f : new String[] {"quantized/manifest.json", "eval/report.json", "table/manifest.json", "table/stats/stats.json", "_SUCCESS"}) {
                assertTrue(s3Exists(out + f), f + " on S3");
            }
            // same quantized table as the local run: manifest entries, rows and Parquet bytes
            Manifest q = Manifest.parse(read(out + "quantized/manifest.json"), "s3 quantized manifest");
            Manifest lq = Tables.manifest(localOut.resolve("quantized"));
            assertEquals(lq.tensors().size(), q.tensors().size());
            for (int i = 0; i < q.tensors().size(); i++) {
                TensorEntry a = lq.tensors().get(i);
                TensorEntry b = q.tensors().get(i);
                assertEquals(a.info(), b.info());
                assertEquals(a.checksum(), b.checksum(), a.info().name());
            }
            assertEquals(lq.files(), q.files());
            for (var f : q.files()) {
                assertArrayEquals(Files.readAllBytes(localOut.resolve("quantized").resolve(f.path())), read(out + "quantized/" + f.path()), f.path());
            }
            assertEquals(rows(localOut.resolve("quantized").toString()), rows(out + "quantized"));
            assertEquals(Tables.manifest(localOut.resolve("table")).tensors(),
                    Manifest.parse(read(out + "table/manifest.json"), "s3 table manifest").tensors());

            // a second run sees _SUCCESS and touches nothing
            Map<String, String> before = listing(out);
            Thread.sleep(1100); // object times have one-second resolution
            PipelineArgs args = new PipelineArgs(src, new RegistryLayout(out), "int4-g128", Recipe.load("int4-g128"), 4, 16,
                    EvaluateArgs.DEFAULT_SEED, new Gate.Thresholds(null, null, null), false);
            assertTrue(PipelineAction.execute(TestSpark.session(), args).skipped());
            assertEquals(before, listing(out));

            // --force redoes it: every object is rewritten
            PipelineResult forced = PipelineAction.execute(TestSpark.session(), new PipelineArgs(args.input(), args.layout(),
                    args.recipeName(), args.recipe(), args.sequences(), args.sequenceLength(), args.seed(), args.gate(), true));
            assertFalse(forced.skipped());
            assertTrue(forced.complete());
            assertEquals(q.files(), forced.quantize().output().files());
            Map<String, String> after = listing(out);
            assertEquals(before.keySet(), after.keySet());
            assertNotEquals(before.get("_SUCCESS"), after.get("_SUCCESS"));
            assertNotEquals(before.get("quantized/manifest.json"), after.get("quantized/manifest.json"));
            logs = log.text();
        }
        // the secret appears nowhere: not printed, not logged, not in any stored object
        assertFalse(printed.toString().contains(SECRET), "secret key printed");
        assertTrue(logs.contains("s3a"), "the log capture saw S3A activity (" + logs.length() + " chars)");
        assertFalse(logs.contains(SECRET), "secret key logged");
        int scanned = 0;
        try (var files = Files.walk(s3.baseDir)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertFalse(text.contains(SECRET), "secret key stored in " + f);
                scanned++;
            }
        }
        assertTrue(scanned >= 10, scanned + " objects scanned");
        System.out.println("S3 pipeline: " + scanned + " stored objects and " + logs.length() + " chars of log scanned for the secret");
    }

    @Test
    void exportReadsAndWritesS3LikeLocalFiles() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(work.resolve("tiny-export"), DType.F32, 0);
        Path table = work.resolve("export-table");
        Path q = work.resolve("export-q");
        assertEquals(0, local("shard", "--input", ckpt.toString(), "--output", table.toString()).code());
        assertEquals(0, local("quantize", "--input", table.toString(), "--output", q.toString(), "--recipe", "int4-g32").code());
        Path localGguf = work.resolve("export.gguf");
        assertEquals(0, local("export", "--input", q.toString(), "--output", localGguf.toString()).code());

        String s3Table = "s3a://registry/export/q";
        upload(q, s3Table);
        TestSpark.Run toS3 = TestSpark.nibble("export", "--input", s3Table, "--output", "s3a://registry/export/model.gguf");
        assertEquals(0, toS3.code(), toS3.err());
        assertArrayEquals(Files.readAllBytes(localGguf), read("s3a://registry/export/model.gguf"), "the same bytes on S3");
        Path fromS3 = work.resolve("from-s3.gguf");
        TestSpark.Run r = TestSpark.nibble("export", "--input", s3Table, "--output", fromS3.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Files.readAllBytes(localGguf), Files.readAllBytes(fromS3), "the same bytes from S3");
        for (String key : listing("s3a://registry/export/").keySet()) {
            assertFalse(key.contains(".nibble-tmp") || key.contains(".nibble-claim"), "nothing left behind: " + key);
        }
    }

    @Test
    void serverDyingMidWriteLeavesNothingCompleteAndARerunSucceeds() throws Exception {
        Path ckpt = work.resolve("demo");
        SyntheticCheckpoint.write(ckpt, SyntheticSpec.preset("demo").withSeed(3), 0);
        String out = "s3a://registry/fault/table";
        Path outDir = s3.baseDir.resolve("registry/fault");
        String[] args = {"shard", "--input", ckpt.toString(), "--output", out, "--target-file-mb", "0.25"};
        CompletableFuture<TestSpark.Run> run = CompletableFuture.supplyAsync(() -> TestSpark.nibble(args));
        // kill the server once the first written objects appear under the output
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean seen = false;
        while (!seen && System.nanoTime() < deadline && !run.isDone()) {
            if (Files.isDirectory(outDir)) {
                try (var s = Files.walk(outDir)) {
                    seen = s.anyMatch(p -> Files.isRegularFile(p) && p.toString().contains("part-"));
                }
            }
            if (!seen) {
                Thread.sleep(20);
            }
        }
        assertTrue(seen, "the shard wrote to S3 before the test could stop the server");
        s3.kill();
        TestSpark.Run failed = run.get(180, TimeUnit.SECONDS);
        assertTrue(failed.code() == 1 || failed.code() == 3, "exit code " + failed.code() + ": " + failed.err());
        List<String> errorLines = failed.err().lines().filter(l -> l.startsWith("nibble shard: ")).toList();
        assertEquals(1, errorLines.size(), failed.err());
        assertFalse(failed.err().lines().anyMatch(l -> l.startsWith("\tat ")), "no stack trace: " + failed.err());
        System.out.println("S3 fault: " + errorLines.get(0));
        try (var s = Files.walk(outDir)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().equals("manifest.json")), "a manifest after a failed run");
        }

        s3.start();
        TestSpark.Run again = TestSpark.nibble(concat(args, new String[] {"--overwrite"}));
        assertEquals(0, again.code(), again.err());
        Tables.assertBitExact(outDir.resolve("table"), ckpt);
    }

    @Test
    void credentialsInAUriAreRefusedBeforeHadoopSeesThem() throws Exception {
        // as users paste them: the right key and secret, and an AWS-style secret with a slash
        String[] leaky = {"s3a://nibble-test-id:" + SECRET + "@registry/", "s3a://nibble-test-id:" + SECRET + "/x+y@registry/"};
        StringBuilder printed = new StringBuilder();
        String logs;
        try (LogCapture log = new LogCapture()) {
            for (String l : leaky) {
                List<String[]> commands = List.of(
                        new String[] {"shard", "--input", l + "tiny/v1/", "--output", "s3a://registry/creds/table"},
                        new String[] {"quantize", "--input", "s3a://registry/creds/table", "--output", l + "creds/q"},
                        new String[] {"evaluate", "--original", "s3a://registry/creds/table", "--quantized", l + "creds/q",
                            "--output", "s3a://registry/creds/eval"},
                        new String[] {"pipeline", "--input", l + "tiny/v1/", "--output", "s3a://registry/creds/"});
                for (String[] c : commands) {
                    TestSpark.Run r = TestSpark.nibble(c);
                    printed.append(r.out()).append(r.err());
                    assertEquals(2, r.code(), r.err());
                    List<String> lines = r.err().lines().filter(x -> x.startsWith("nibble " + c[0] + ": ")).toList();
                    assertEquals(1, lines.size(), r.err());
                    assertTrue(lines.get(0).matches("nibble " + c[0] + ": --(input|output|quantized): credentials in the URI are not accepted; .*"),
                            lines.get(0));
                }
            }
            logs = log.text();
        }
        assertFalse(printed.toString().contains(SECRET), "secret printed");
        assertFalse(logs.contains(SECRET), "secret logged");
        assertFalse(s3Exists("s3a://registry/creds/"), "nothing was written");
    }

    @Test
    void claimsOnS3AreExclusiveAndReleased() throws Exception {
        org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path("s3a://registry/claims/table");
        FileSystem fs = out.getFileSystem(conf());
        System.out.println("S3A conditional create (If-None-Match) for claims: "
                + fs.hasPathCapability(out, "fs.option.create.conditional.overwrite"));
        org.apache.hadoop.fs.Path claimPath = OutputClaim.claimPath(out);
        try (OutputClaim a = OutputClaim.acquire(fs, out, conf())) {
            assertTrue(a.held());
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> OutputClaim.acquire(fs, out, conf()));
            assertTrue(e.getMessage().startsWith("s3a://registry/claims/table: another Nibble run is writing here (claimed by "), e.getMessage());
            assertTrue(e.getMessage().contains("run " + a.run()), e.getMessage());
            assertTrue(a.held(), "the loser did not overwrite the claim");
            TestSpark.Run shard = TestSpark.nibble("shard", "--input",
                    ShardRoundTripTest.tinyCheckpoint(work.resolve("tiny-claims"), DType.F32, 0).toString(), "--output", out.toString());
            assertEquals(3, shard.code(), shard.err());
            assertTrue(shard.err().contains("another Nibble run is writing here"), shard.err());
        }
        assertFalse(fs.exists(claimPath), "released");
    }

    private static boolean s3Exists(String uri) throws Exception {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
        return p.getFileSystem(conf()).exists(p);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
