package nibble.tests;

/** Small helpers shared by the S3 and cluster tests. */
final class S3PipelineTestSupport {
    private S3PipelineTestSupport() {
    }

    static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
