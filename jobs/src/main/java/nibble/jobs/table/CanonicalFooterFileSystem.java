package nibble.jobs.table;

import java.io.IOException;
import java.net.URI;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonConfigurationKeysPublic;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The output's own file system (local, HDFS, S3A, ...) with every file it creates passed through
 * {@link CanonicalFooterStream}, so each Parquet file written through it gets a canonical footer, and
 * with a buffer of at least the file system's {@code io.file.buffer.size} (parquet-mr asks for 4 KiB).
 *
 * <p>Why a file system: parquet-mr's writers ({@code ParquetOutputFormat.getRecordWriter}, used by
 * {@link PlanFileWriter} and by Spark's DataFrame writer) open their file with
 * {@code path.getFileSystem(conf)}; routing that one call through this wrapper, by the Hadoop settings
 * of {@link #settings}, keeps every Parquet setting those writers apply exactly as it was, without
 * copying their code. Everything but creating a file goes to the real file system unchanged: the
 * instance Hadoop caches for the scheme, found with the scheme's original settings.
 *
 * <p>The wrapper is not cached (Hadoop makes one per lookup; it holds nothing but a reference) and
 * {@link #close()} leaves the shared real file system open. {@code createFile} builders and appends
 * go to the real file system unwrapped; parquet-mr uses neither.
 */
public final class CanonicalFooterFileSystem extends FilterFileSystem {
    static final String ORIGINAL_IMPL = "nibble.canonical-footer.impl";
    static final String ORIGINAL_DISABLE_CACHE = "nibble.canonical-footer.impl.disable.cache";
    private static final String UNSET = "";
    private static final String COMMIT_PROTOCOL = "spark.sql.sources.commitProtocolClass";
    private static final String DEFAULT_COMMIT_PROTOCOL = "org.apache.spark.sql.execution.datasources.SQLHadoopMapReduceCommitProtocol";
    private static final String CLOUD_COMMIT_PROTOCOL = "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol";
    private static final String FACTORY_CLASS = "mapreduce.outputcommitter.factory.class";
    private static final String FACTORY_SCHEME = "mapreduce.outputcommitter.factory.scheme.";
    private static final String FILE_FACTORY = "org.apache.hadoop.mapreduce.lib.output.FileOutputCommitterFactory";
    private static final String S3A_FACTORY = "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory";

    /** Made by Hadoop for the {@code fs.<scheme>.impl} setting of {@link #settings}. */
    public CanonicalFooterFileSystem() {
    }

    /**
     * Hadoop settings (lower-case keys, so they may also be a DataFrame writer's options) under which
     * files created on {@code dir}'s file system get canonical Parquet footers.
     */
    public static Map<String, String> settings(Configuration conf, Path dir) throws IOException {
        String scheme = dir.getFileSystem(conf).getUri().getScheme();
        String impl = "fs." + scheme + ".impl";
        Map<String, String> s = new LinkedHashMap<>();
        if (CanonicalFooterFileSystem.class.getName().equals(conf.get(impl))) {
            return s; // already routed
        }
        s.put(ORIGINAL_IMPL, conf.get(impl, UNSET));
        s.put(ORIGINAL_DISABLE_CACHE, conf.get(impl + ".disable.cache", UNSET));
        s.put(impl, CanonicalFooterFileSystem.class.getName());
        s.put(impl + ".disable.cache", "true");
        return s;
    }

    /**
     * Writes {@code writer}'s rows as Parquet under {@code dir}, each file with a canonical footer,
     * unless the write commits through a committer made for the store (S3A's committers accept only
     * an {@code S3AFileSystem}, so their files keep parquet-mr's order): see {@link #wraps}.
     */
    public static void parquet(SparkSession spark, DataFrameWriter<Row> writer, String dir) {
        writer.options(writerOptions(spark, dir)).parquet(dir);
    }

    private static Map<String, String> writerOptions(SparkSession spark, String dir) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        try {
            if (!wraps(spark.conf().get(COMMIT_PROTOCOL, DEFAULT_COMMIT_PROTOCOL), conf, new Path(dir))) {
                return Map.of();
            }
            return settings(conf, new Path(dir));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Whether a DataFrame write to {@code dir} under the commit protocol {@code protocol} can go
     * through this wrapper: with Spark's default protocol, and with Spark's cloud protocol
     * ({@code PathOutputCommitProtocol}, which Spark 4 makes the default whenever
     * {@code spark-hadoop-cloud} is on the classpath) when the committer factory it resolves for
     * {@code dir} is Hadoop's {@code FileOutputCommitterFactory}. That is every scheme but S3A,
     * unless a factory is named for it ({@code mapreduce.outputcommitter.factory.class}, or
     * {@code mapreduce.outputcommitter.factory.scheme.<scheme>}; Hadoop names S3A's own by default).
     */
    public static boolean wraps(String protocol, Configuration conf, Path dir) {
        if (DEFAULT_COMMIT_PROTOCOL.equals(protocol)) {
            return true;
        }
        if (!CLOUD_COMMIT_PROTOCOL.equals(protocol)) {
            return false; // a protocol of its own: its committer may need the store's own file system
        }
        String factory = conf.getTrimmed(FACTORY_CLASS);
        if (factory == null || factory.isEmpty()) {
            String scheme = dir.toUri().getScheme() != null ? dir.toUri().getScheme() : FileSystem.getDefaultUri(conf).getScheme();
            factory = conf.getTrimmed(FACTORY_SCHEME + scheme, "s3a".equals(scheme) ? S3A_FACTORY : FILE_FACTORY);
        }
        return FILE_FACTORY.equals(factory);
    }

    /** Applies {@link #settings} to {@code conf}. */
    public static void install(Configuration conf, Path dir) throws IOException {
        settings(conf, dir).forEach(conf::set);
    }

    @Override
    public void initialize(URI name, Configuration conf) throws IOException {
        Configuration real = new Configuration(conf);
        String impl = "fs." + name.getScheme() + ".impl";
        restore(real, impl, conf.get(ORIGINAL_IMPL, UNSET));
        restore(real, impl + ".disable.cache", conf.get(ORIGINAL_DISABLE_CACHE, UNSET));
        this.fs = FileSystem.get(name, real);
        super.initialize(name, conf);
    }

    private static void restore(Configuration conf, String key, String original) {
        if (original.equals(UNSET)) {
            conf.unset(key);
        } else {
            conf.set(key, original);
        }
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize, short replication,
                                     long blockSize, Progressable progress) throws IOException {
        return wrap(f, super.create(f, permission, overwrite, buffer(bufferSize), replication, blockSize, progress));
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, EnumSet<CreateFlag> flags, int bufferSize,
                                     short replication, long blockSize, Progressable progress, Options.ChecksumOpt checksumOpt)
            throws IOException {
        return wrap(f, super.create(f, permission, flags, buffer(bufferSize), replication, blockSize, progress, checksumOpt));
    }

    @Override
    public FSDataOutputStream createNonRecursive(Path f, FsPermission permission, EnumSet<CreateFlag> flags, int bufferSize,
                                                 short replication, long blockSize, Progressable progress) throws IOException {
        return wrap(f, super.createNonRecursive(f, permission, flags, buffer(bufferSize), replication, blockSize, progress));
    }

    /**
     * parquet-mr asks for a 4 KiB buffer, and the local file system's checksummer hands it 512-byte
     * chunks: one write call per 4 KiB of a table. A file gets at least the file system's
     * {@code io.file.buffer.size} instead (Spark sets it from {@code spark.buffer.size}, 64 KiB).
     */
    private int buffer(int requested) {
        return Math.max(requested, getConf().getInt(CommonConfigurationKeysPublic.IO_FILE_BUFFER_SIZE_KEY, requested));
    }

    private static FSDataOutputStream wrap(Path f, FSDataOutputStream real) {
        // the real stream counts the bytes in the real file system's statistics
        return new FSDataOutputStream(new CanonicalFooterStream(real, f.toString()), null);
    }

    /** Leaves the real file system open: it is Hadoop's cached instance, shared with the rest of the job. */
    @Override
    public void close() {
    }
}
