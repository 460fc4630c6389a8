package nibble.tests;

/** Small helpers shared by the S3 and cluster tests. */
final class S3PipelineTestSupport {
    /** Spark's settings for committing through Hadoop's cloud committers (S3A's magic committer on s3a://), as key, value pairs. */
    static final String[] CLOUD_COMMIT = {
        "spark.sql.sources.commitProtocolClass", "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
        "spark.sql.parquet.output.committer.class", "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter"};

    private S3PipelineTestSupport() {
    }

    static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
