package nibble.jobs.table;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import nibble.common.Crc32c;
import nibble.common.TensorInfo;
import nibble.common.table.FilePlan;
import nibble.jobs.spark.SerializableConf;

/**
 * Writes a dense table's planned files with one task per file plan: the task reads its plan's rows
 * from the source ({@link SourceRows#forEachRow}) in plan order and writes them with
 * {@link PlanFileWriter}, so rows are never shuffled, and the file's bytes depend only on the plan
 * (whatever the executor count). The tasks return each range's checksum share; the driver checks that
 * every plan was written once with all its rows and XORs the shares into each tensor's CRC-32C.
 */
public final class PlannedFiles {
    private PlannedFiles() {
    }

    /**
     * Writes every plan's file into {@code dataDir} and returns each tensor's checksum, in
     * {@code infos}' order.
     */
    public static Map<String, String> write(SparkSession spark, List<FilePlan> plans, List<TensorInfo> infos,
                                            SourceRows source, String codec, String dataDir) {
        SerializableConf conf = new SerializableConf(spark.sparkContext().hadoopConfiguration());
        List<PlanFileWriter.WrittenFile> written = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(plans, Math.max(1, plans.size()))
                .map(plan -> writeOne(conf, dataDir, plan, infos, codec, source))
                .collect();
        return checksums(plans, infos, written);
    }

    private static PlanFileWriter.WrittenFile writeOne(SerializableConf conf, String dataDir, FilePlan plan,
                                                        List<TensorInfo> infos, String codec, SourceRows source)
            throws IOException {
        TaskContext ctx = TaskContext.get();
        long attempt = ctx == null ? 0 : ctx.taskAttemptId();
        try (PlanFileWriter<DenseRowWriteSupport.DenseRow> w = PlanFileWriter.dense(conf.get(), dataDir, plan, infos, codec, attempt)) {
            source.forEachRow(plan, w::write);
            return w.finish();
        }
    }

    /** Each tensor's CRC-32C from the written files' shares, after checking every plan came back once, whole. */
    public static Map<String, String> checksums(List<FilePlan> plans, List<TensorInfo> infos, List<PlanFileWriter.WrittenFile> written) {
        if (written.size() != plans.size()) {
            throw new IllegalStateException("expected " + plans.size() + " written files, got " + written.size());
        }
        boolean[] seen = new boolean[plans.size()];
        int[] crc = new int[infos.size()];
        for (PlanFileWriter.WrittenFile f : written) {
            FilePlan plan = plans.get(f.plan());
            if (seen[f.plan()] || f.rows() != plan.rows()) {
                throw new IllegalStateException(plan.fileName() + ": written twice or with " + f.rows() + " of " + plan.rows() + " rows");
            }
            seen[f.plan()] = true;
            for (int i = 0; i < f.tensors().length; i++) {
                crc[f.tensors()[i]] ^= f.shares()[i];
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < infos.size(); i++) {
            out.put(infos.get(i).name(), Crc32c.hex(crc[i]));
        }
        return out;
    }
}
