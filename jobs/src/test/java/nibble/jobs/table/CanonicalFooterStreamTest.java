package nibble.jobs.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.format.ColumnMetaData;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.Util;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CanonicalFooterStream} and {@link CanonicalFooterFileSystem} on real parquet-mr files (about
 * 11 MB: 4 row groups, dictionary and plain columns): the bytes before the footer pass unchanged,
 * the footer comes out sorted and as long, whatever the sizes of the writes; other files pass
 * unchanged; a footer beyond the bound fails the close.
 */
class CanonicalFooterStreamTest {
    private static final MessageType SCHEMA = MessageTypeParser.parseMessageType(
            "message t { required binary name (UTF8); required int64 row; required binary data; }");
    @TempDir
    static java.nio.file.Path tmp;
    /** Written by parquet-mr straight to the local file system. */
    private static byte[] plain;

    @BeforeAll
    static void write() throws IOException {
        plain = Files.readAllBytes(writeFile(new Configuration(), "plain.parquet"));
    }

    private static java.nio.file.Path writeFile(Configuration conf, String name) throws IOException {
        java.nio.file.Path f = tmp.resolve(name);
        Random r = new Random(12);
        SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new Path(f.toUri())).withConf(conf).withType(SCHEMA)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE).withRowGroupSize(3L << 20).withPageSize(256 << 10)
                .withDictionaryEncoding(true).withDictionaryEncoding("data", false).build()) {
            byte[] data = new byte[40];
            for (int i = 0; i < 200_000; i++) {
                r.nextBytes(data);
                w.write(groups.newGroup().append("name", "tensor." + (i / 5000)).append("row", (long) i)
                        .append("data", Binary.fromConstantByteArray(data.clone())));
            }
        }
        return f;
    }

    private static int footerStart(byte[] file) {
        return file.length - 8 - ByteBuffer.wrap(file, file.length - 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static FileMetaData footer(byte[] file) throws IOException {
        int start = footerStart(file);
        return Util.readFileMetaData(new ByteArrayInputStream(file, start, file.length - 8 - start));
    }

    /** {@code file} with every chunk's two lists put in the given order by the test itself. */
    private static byte[] withLists(byte[] file, boolean sorted) throws IOException {
        FileMetaData m = footer(file);
        for (var rg : m.getRow_groups()) {
            for (var c : rg.getColumns()) {
                ColumnMetaData md = c.getMeta_data();
                md.getEncodings().sort(Comparator.comparingInt(e -> e.getValue()));
                md.getEncoding_stats().sort(Comparator.comparingInt(s -> s.getPage_type().getValue() * 100 + s.getEncoding().getValue()));
                if (!sorted) {
                    Collections.reverse(md.getEncodings());
                    Collections.reverse(md.getEncoding_stats());
                }
            }
        }
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        Util.writeFileMetaData(m, f);
        int start = footerStart(file);
        assertEquals(file.length - 8 - start, f.size(), "reordered footer length");
        byte[] out = file.clone();
        System.arraycopy(f.toByteArray(), 0, out, start, f.size());
        return out;
    }

    /**
     * Passes {@code in} through a stream in writes of random sizes: small, or from 64 KiB up when
     * {@code big}, these only before {@code bigUntil} (parquet-mr writes its footer field by field).
     */
    private static byte[] pass(byte[] in, int bigUntil, long seed, boolean big) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Random r = new Random(seed);
        try (CanonicalFooterStream s = new CanonicalFooterStream(out, "test")) {
            int at = 0;
            while (at < in.length) {
                int len = 1 + r.nextInt(3000);
                if (big && r.nextInt(3) == 0 && bigUntil - at >= CanonicalFooterStream.PASS_THROUGH) {
                    len = Math.min(CanonicalFooterStream.PASS_THROUGH + r.nextInt(200_000), bigUntil - at);
                }
                len = Math.min(len, in.length - at);
                if (len == 1 && r.nextBoolean()) {
                    s.write(in[at]);
                } else {
                    s.write(in, at, len);
                }
                at += len;
                s.flush();
            }
        }
        return out.toByteArray();
    }

    @Test
    void theFixtureHasListsToSortAndSpansTheHeldBound() throws Exception {
        FileMetaData m = footer(plain);
        assertTrue(m.getRow_groups().size() >= 3, m.getRow_groups().size() + " row groups");
        assertTrue(plain.length > 2 * CanonicalFooterStream.MAX_HELD, plain.length + " bytes");
        assertFalse(CanonicalFooter.isCanonical(footer(withLists(plain, false))));
        assertTrue(CanonicalFooter.isCanonical(footer(withLists(plain, true))));
    }

    @Test
    void theFooterComesOutSortedAndEverythingElseUnchanged() throws Exception {
        byte[] scrambled = withLists(plain, false);
        byte[] expected = withLists(plain, true);
        assertFalse(Arrays.equals(scrambled, expected));
        for (long seed = 0; seed < 4; seed++) {
            assertArrayEquals(expected, pass(scrambled, footerStart(scrambled), seed, true), "mixed writes, seed " + seed);
        }
        assertArrayEquals(expected, pass(scrambled, 0, 9, false), "small writes only: the held tail is trimmed");
        assertArrayEquals(expected, pass(expected, footerStart(expected), 5, true), "an already canonical file");
        int start = footerStart(scrambled);
        assertArrayEquals(Arrays.copyOfRange(expected, start, expected.length - 8),
                CanonicalFooter.canonical(Arrays.copyOfRange(scrambled, start, scrambled.length - 8), "x"));
    }

    @Test
    void otherFilesPassUnchanged() throws Exception {
        byte[] text = new byte[300_000];
        new Random(3).nextBytes(text);
        assertArrayEquals(text, pass(text, text.length, 1, true));
        assertArrayEquals(new byte[0], pass(new byte[0], 0, 1, true));
        byte[] aborted = Arrays.copyOf(withLists(plain, false), plain.length / 2); // an attempt cut short
        assertArrayEquals(aborted, pass(aborted, aborted.length, 2, true));
    }

    @Test
    void aFooterBeyondTheBoundFailsTheClose() {
        int junk = CanonicalFooterStream.MAX_HELD + 10;
        byte[] f = new byte[4 + junk + 8];
        System.arraycopy("PAR1".getBytes(), 0, f, 0, 4);
        ByteBuffer.wrap(f, 4 + junk, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(junk);
        System.arraycopy("PAR1".getBytes(), 0, f, f.length - 4, 4);
        IOException e = assertThrows(IOException.class, () -> pass(f, 0, 3, false));
        assertTrue(e.getMessage().startsWith("test: Parquet footer of " + junk + " bytes is longer than"), e.getMessage());
    }

    @Test
    void aFooterInOneLargeWriteFailsTheClose() throws IOException {
        byte[] scrambled = withLists(plain, false);
        IOException e = assertThrows(IOException.class, () -> {
            try (CanonicalFooterStream s = new CanonicalFooterStream(new ByteArrayOutputStream(), "test")) {
                s.write(scrambled, 0, scrambled.length);
            }
        });
        assertTrue(e.getMessage().contains("came in a write of"), e.getMessage());
    }

    @Test
    void dataFrameWritesAreWrappedUnlessAStoresOwnCommitterTakesThem() {
        String spark = "org.apache.spark.sql.execution.datasources.SQLHadoopMapReduceCommitProtocol";
        String cloud = "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol";
        Configuration conf = new Configuration(false);
        Path local = new Path(tmp.toUri());
        Path s3 = new Path("s3a://registry/model/stats");
        assertTrue(CanonicalFooterFileSystem.wraps(spark, conf, local));
        assertTrue(CanonicalFooterFileSystem.wraps(spark, conf, s3), "Spark's protocol commits S3A files by rename too");
        // Spark 4 picks the cloud protocol whenever spark-hadoop-cloud is on the classpath: local and HDFS files keep
        // their canonical footers, S3A's committers (Hadoop's default factory for s3a) need the real S3AFileSystem
        assertTrue(CanonicalFooterFileSystem.wraps(cloud, conf, local));
        assertTrue(CanonicalFooterFileSystem.wraps(cloud, conf, new Path("hdfs://nn:8020/models/stats")));
        assertFalse(CanonicalFooterFileSystem.wraps(cloud, conf, s3));
        conf.set("mapreduce.outputcommitter.factory.scheme.s3a", "org.apache.hadoop.mapreduce.lib.output.FileOutputCommitterFactory");
        assertTrue(CanonicalFooterFileSystem.wraps(cloud, conf, s3));
        conf.set("mapreduce.outputcommitter.factory.class", "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory");
        assertFalse(CanonicalFooterFileSystem.wraps(cloud, conf, local), "one factory for every scheme");
        assertFalse(CanonicalFooterFileSystem.wraps("com.example.OwnProtocol", new Configuration(false), local));
    }

    @Test
    void theFileSystemGivesParquetMrsFileACanonicalFooter() throws Exception {
        Configuration conf = new Configuration();
        CanonicalFooterFileSystem.install(conf, new Path(tmp.toUri()));
        assertEquals(CanonicalFooterFileSystem.class.getName(), conf.get("fs.file.impl"));
        byte[] wrapped = Files.readAllBytes(writeFile(conf, "wrapped.parquet"));
        assertArrayEquals(withLists(plain, true), wrapped);
        assertTrue(new Path(tmp.toUri()).getFileSystem(conf) instanceof CanonicalFooterFileSystem);
        assertTrue(CanonicalFooterFileSystem.settings(conf, new Path(tmp.toUri())).isEmpty(), "installed once");
    }

    /** parquet-mr's 4 KiB buffer request reaches the real file system as {@code io.file.buffer.size}; a larger one is kept. */
    @Test
    void aCreatedFileGetsAtLeastTheFileSystemsBuffer() throws Exception {
        Configuration conf = new Configuration();
        conf.set("fs.file.impl", BufferRecordingFileSystem.class.getName());
        conf.set("fs.file.impl.disable.cache", "true");
        conf.setInt("io.file.buffer.size", 65536);
        CanonicalFooterFileSystem.install(conf, new Path(tmp.toUri()));
        FileSystem fs = new Path(tmp.toUri()).getFileSystem(conf);
        fs.create(new Path(tmp.toUri().resolve("small")), true, 4096).close();
        assertEquals(65536, BufferRecordingFileSystem.requested);
        fs.create(new Path(tmp.toUri().resolve("large")), true, 1 << 20).close();
        assertEquals(1 << 20, BufferRecordingFileSystem.requested);
    }

    /** The local file system, noting the buffer size each file is created with. */
    public static final class BufferRecordingFileSystem extends LocalFileSystem {
        static volatile int requested;

        @Override
        public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize, short replication,
                                         long blockSize, Progressable progress) throws IOException {
            requested = bufferSize;
            return super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
        }
    }
}
