package nibble.jobs.action;

import java.io.IOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import nibble.common.FiniteRows;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;
import nibble.jobs.io.Uris;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.DenseRowWriteSupport;
import nibble.jobs.table.PlanFileWriter;
import nibble.jobs.table.PlannedFiles;
import nibble.jobs.table.PlannedInput;
import nibble.jobs.table.TensorTable;

/**
 * {@code shard}'s re-shard of a dense table without a shuffle or a read-back: one task per output
 * file plan reads exactly that plan's rows from the input table's files ({@link PlannedInput}, which
 * checks each row is the one the manifest puts there), checks each row's dtype and length against the
 * manifest, refuses NaN and infinities ({@link FiniteRows}) unless {@code --allow-non-finite}, and
 * writes the plan's file with {@link PlanFileWriter#dense}, which checksums the rows as they pass.
 * The driver then requires each tensor's checksum to equal the input manifest's. Rows reach the
 * writer in table order, as the old shuffle brought them to Spark's writer, so the files are the same.
 */
final class PlannedReshard {
    private PlannedReshard() {
    }

    /**
     * Writes every plan's file into {@code dataDir} with {@code codec} and returns the checksum of each
     * tensor's written rows, after checking it against the input manifest's.
     *
     * @throws InvalidInputException when a row or a checksum does not match the input manifest
     */
    static Map<String, String> write(SparkSession spark, String input, Manifest in, List<FilePlan> plans, String codec,
                                     boolean allowNonFinite, String dataDir) {
        List<TensorInfo> infos = in.tensorInfos();
        PlannedInput source = new PlannedInput(input, in);
        SerializableConf conf = new SerializableConf(spark.sparkContext().hadoopConfiguration());
        String where = Uris.redact(input);
        List<PlanFileWriter.WrittenFile> written = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(plans, Math.max(1, plans.size()))
                .map(plan -> writeOne(conf, dataDir, plan, infos, codec, source, where, allowNonFinite))
                .collect();
        Map<String, String> checksums = PlannedFiles.checksums(plans, infos, written);
        for (var e : in.tensors()) {
            String found = checksums.get(e.info().name());
            if (!found.equals(e.checksum())) {
                throw new InvalidInputException(where + ": tensor '" + e.info().name() + "': data checksum "
                        + found + " does not match the manifest's " + e.checksum());
            }
        }
        return checksums;
    }

    private static PlanFileWriter.WrittenFile writeOne(SerializableConf conf, String dataDir, FilePlan plan, List<TensorInfo> infos,
                                                       String codec, PlannedInput source, String where, boolean allowNonFinite)
            throws IOException {
        TaskContext ctx = TaskContext.get();
        long attempt = ctx == null ? 0 : ctx.taskAttemptId();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < infos.size(); i++) {
            index.put(infos.get(i).name(), i);
        }
        Iterator<Row> rows = source.rows(conf.get(), plan);
        try (PlanFileWriter<DenseRowWriteSupport.DenseRow> w = PlanFileWriter.dense(conf.get(), dataDir, plan, infos, codec, attempt)) {
            while (rows.hasNext()) {
                Row r = rows.next();
                String name = TensorTable.tensor(r);
                long row = TensorTable.row(r);
                byte[] data = TensorTable.data(r);
                TensorInfo t = infos.get(index.get(name)); // PlannedInput checked the name is the plan's
                if (!t.dtype().name().equals(TensorTable.dtype(r))) {
                    throw new InvalidInputException(where + ": tensor '" + name + "': row " + row + " has dtype "
                            + TensorTable.dtype(r) + ", expected " + t.dtype().name());
                }
                if (data.length != t.rowBytes()) {
                    throw new InvalidInputException(where + ": tensor '" + name + "': row " + row + " has " + data.length
                            + " bytes, expected " + t.rowBytes());
                }
                if (!allowNonFinite) {
                    FiniteRows.require(where, name, row, data, t.dtype(), FiniteRows.SHARD_HINT);
                }
                w.write(index.get(name), row, data, 0, data.length);
            }
            return w.finish();
        }
    }
}
