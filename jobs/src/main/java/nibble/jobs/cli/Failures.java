package nibble.jobs.cli;

import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkThrowable;

/**
 * Failures the launcher explains instead of printing the exception: heap exhaustion (exit 1, with how
 * to give Nibble more memory) and a data file that Spark cannot decode, such as a corrupt Parquet page
 * or a file that fails its checksum (exit 3, naming the file). Everything else stays "failed: ...".
 *
 * <p>Heap exhaustion reaches the launcher in three shapes: an {@link OutOfMemoryError} on the driver; one
 * raised in a task of the embedded local executor, which {@code spark.executor.killOnFatalError.depth=0}
 * ({@code nibble.jobs.spark.Sessions}, conf/spark-defaults.local.conf) turns into a failed task instead
 * of Spark's {@code System.exit(52)}; and, on a cluster, an executor that died of it, which the driver
 * only knows from the task-failure text ("OutOfMemoryError", or the executor's exit code 52).
 */
public final class Failures {
    /** How a cluster reports an executor that Spark's own handler ended on heap exhaustion (SparkExitCode.OOM). */
    private static final Pattern EXECUTOR_OOM = Pattern.compile(
            "OutOfMemoryError|exit(?:ed)?(?: with)?(?: a non-zero)? (?:exit )?(?:code|status)[: ]+52\\b", Pattern.CASE_INSENSITIVE);

    private Failures() {
    }

    /**
     * The line for heap exhaustion anywhere in {@code e}'s chain or text, or null when it is something
     * else. {@code conf} is the session's (null when none was made: the driver's heap is all there is).
     */
    public static String outOfMemory(Throwable e, SparkConf conf) {
        String what = null;
        for (Throwable t = e; t != null && what == null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError oom) {
                what = "out of memory (" + (oom.getMessage() == null ? "OutOfMemoryError" : oom.getMessage()) + ")";
            }
        }
        for (Throwable t = e; t != null && what == null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && EXECUTOR_OOM.matcher(t.getMessage()).find()) {
                what = "out of memory: an executor ran out of heap";
            }
        }
        if (what == null) {
            return null;
        }
        long mib = Runtime.getRuntime().maxMemory() >> 20;
        if (conf == null || conf.get("spark.master", "local").startsWith("local")) {
            return what + "; this JVM's heap is " + mib + " MiB, and local mode runs every task in it. Give Nibble more "
                    + "memory: NIBBLE_DRIVER_MEMORY=8g for bin/nibble, --driver-memory under spark-submit; or run fewer "
                    + "tasks at once (local[N])";
        }
        return what + "; the driver's heap is " + mib + " MiB, an executor's (spark.executor.memory) "
                + conf.get("spark.executor.memory", "1g") + ". Give Nibble more memory: --executor-memory (and "
                + "--driver-memory) under spark-submit; or run fewer tasks per executor (spark.executor.cores)";
    }

    /**
     * The line for a data file Spark could not decode (Spark's {@code FAILED_READ_FILE}), naming the file
     * and the decoder's complaint; null for anything else, and for network trouble while reading, which
     * is not the input's fault.
     */
    public static String unreadableFile(Throwable e) {
        SparkThrowable read = null;
        Throwable root = e;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (read == null && t instanceof SparkThrowable s && s.getCondition() != null
                    && s.getCondition().startsWith("FAILED_READ_FILE")) {
                read = s;
            }
            if (isNetworkOne(t)) {
                return null;
            }
            root = t;
        }
        if (read == null) {
            return null;
        }
        String path = read.getMessageParameters().getOrDefault("path", "a data file");
        String why = root == read ? "" : ": " + firstLine(root);
        return path + ": cannot read this data file (damaged, or not written by Nibble)" + why;
    }

    /**
     * The line for an S3 store that could not be reached (connection refused or timed out, unknown
     * host) once S3A's retries ran out, naming the operation and path and the settings that bounded the
     * wait; null for anything else. {@code retries} describes those settings.
     */
    public static String unreachableStore(Throwable e, long elapsedMillis, String retries) {
        String operation = null;
        Throwable root = e;
        boolean connect = false;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            if (operation == null && m != null && m.contains(" on s3a://")) {
                int end = m.indexOf(": ", m.indexOf(" on s3a://"));
                operation = end < 0 ? m : m.substring(0, end);
            }
            connect |= t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException
                    || t instanceof java.net.NoRouteToHostException || t.getClass().getName().endsWith("ConnectTimeoutException")
                    || (m != null && m.contains("Unable to execute HTTP request"));
            root = t;
        }
        if (operation == null || !connect) {
            return null;
        }
        return "cannot reach the S3 store: " + operation + ": " + firstLine(root) + "; gave up after "
                + Math.round(elapsedMillis / 1000.0) + " s (" + retries + "; set with --conf spark.hadoop.<key>=<value>)";
    }

    /** True when {@code e} or a cause is a network failure (refused, reset, timed out, unknown host, SDK client error). */
    public static boolean isNetwork(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (isNetworkOne(t)) {
                return true;
            }
        }
        return false;
    }

    /** The first line of the message of {@code e}'s deepest cause (its class name when it has none). */
    public static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return firstLine(root);
    }

    private static boolean isNetworkOne(Throwable t) {
        String name = t.getClass().getName();
        return t instanceof java.net.SocketException || t instanceof java.net.SocketTimeoutException
                || t instanceof java.net.UnknownHostException || t instanceof java.io.InterruptedIOException
                || name.contains("SdkClientException") || name.endsWith("AWSClientIOException")
                || name.toLowerCase(Locale.ROOT).contains("timeout");
    }

    private static String firstLine(Throwable t) {
        String m = t.getMessage();
        String line = m == null ? t.getClass().getSimpleName() : m.lines().findFirst().orElse("");
        return line.isBlank() ? t.getClass().getSimpleName() : line;
    }
}
