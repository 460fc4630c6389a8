package nibble.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;

/** How the launcher recognises heap exhaustion and an undecodable data file, without Spark running. */
class FailuresTest {
    private static final SparkConf CLUSTER = new SparkConf().set("spark.master", "spark://h:7077").set("spark.executor.memory", "3g");

    @Test
    void heapExhaustionInTheChainOrInAClustersText() {
        Exception local = new RuntimeException("task failed", new OutOfMemoryError("Java heap space"));
        assertTrue(Failures.outOfMemory(local, null).startsWith("out of memory (Java heap space); this JVM's heap is "));
        assertTrue(Failures.outOfMemory(local, null).contains("NIBBLE_DRIVER_MEMORY"));
        for (String text : new String[] {
                "ExecutorLostFailure (executor 0 exited caused by one of the running tasks) Reason: Command exited with code 52",
                "Container exited with a non-zero exit code 52. Error file: prelaunch.err",
                "The executor with id 3 exited with exit code 52(JVM OOM)",
                "Lost task 0.0: java.lang.OutOfMemoryError: Java heap space"}) {
            String line = Failures.outOfMemory(new SparkException("Job aborted due to stage failure: " + text), CLUSTER);
            assertTrue(line != null && line.contains("spark.executor.memory) 3g") && line.contains("--executor-memory"), text + " -> " + line);
        }
        assertNull(Failures.outOfMemory(new SparkException("Command exited with code 520"), CLUSTER));
        assertNull(Failures.outOfMemory(new IOException("disk full"), null));
    }

    @Test
    void anUndecodableFileIsNamedButNetworkTroubleIsNot() {
        SparkException read = new SparkException("FAILED_READ_FILE.NO_HINT", path("file:/t/tensors/part-0.parquet"),
                new IOException("can not read class org.apache.parquet.format.PageHeader", new RuntimeException("don't know what type: 15")));
        assertTrue(Failures.unreadableFile(new RuntimeException(read)).equals(
                "file:/t/tensors/part-0.parquet: cannot read this data file (damaged, or not written by Nibble): don't know what type: 15"),
                Failures.unreadableFile(read));
        SparkException network = new SparkException("FAILED_READ_FILE.NO_HINT", path("s3a://b/t/part-0.parquet"),
                new ConnectException("Connection refused"));
        assertNull(Failures.unreadableFile(network));
        assertNull(Failures.unreadableFile(new IOException("no such file")));
    }

    /** Spark's message parameters for FAILED_READ_FILE, as its Parquet reader fills them. */
    private static scala.collection.immutable.Map<String, String> path(String p) {
        return new scala.collection.immutable.Map.Map1<>("path", p);
    }
}
