import java.lang.management.ManagementFactory;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;
import nibble.common.table.ShardPlanner;
import nibble.jobs.table.PlannedInput;
import nibble.jobs.table.TensorTable;

/**
 * The reader behind the shuffle-free quantize and re-shard ({@code PlannedInput}) alone, on one
 * thread, without Spark: every row of a dense table, in plans of 128 MiB, {@code passes} times.
 * Prints each pass's wall time and the reading thread's CPU time (the file system's own reading
 * threads are not in it). Usage, from the checkout after a build:
 * java $(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' pom.xml) -Dlog4j2.configurationFile=conf/log4j2.properties \
 *   -cp "jobs/target/nibble-jobs-0.1.0-SNAPSHOT.jar:common/target/nibble-common-0.1.0-SNAPSHOT.jar:$(cat jobs/target/launcher-classpath.txt)" \
 *   bin/bench-lib/ReadTable.java /tmp/nibble-bench/table-bench-2g 3
 */
public final class ReadTable {
    public static void main(String[] args) throws Exception {
        Configuration conf = new Configuration();
        Manifest m = TensorTable.readManifest(args[0], conf);
        List<FilePlan> plans = ShardPlanner.plan(m.tensorInfos(), 128L << 20);
        PlannedInput in = new PlannedInput(args[0], m);
        var threads = ManagementFactory.getThreadMXBean();
        for (int pass = 1; pass <= Integer.parseInt(args[1]); pass++) {
            long t0 = System.nanoTime();
            long c0 = threads.getCurrentThreadCpuTime();
            long bytes = 0;
            long rows = 0;
            for (FilePlan p : plans) {
                Iterator<Row> it = in.rows(conf, p);
                while (it.hasNext()) {
                    bytes += TensorTable.data(it.next()).length;
                    rows++;
                }
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            System.out.printf("pass %d: %d rows, %.2f GB, %.2f s wall, %.2f s of the reading thread's CPU%n", pass, rows, bytes / 1e9,
                    wall, (threads.getCurrentThreadCpuTime() - c0) / 1e9);
        }
    }
}
