package nibble.jobs.action;

import java.io.IOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import nibble.common.TensorInfo;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;
import nibble.jobs.spark.InputChecksums;
import nibble.jobs.spark.PartitionErrors;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.PlanFileWriter;
import nibble.jobs.table.PlannedFiles;
import nibble.jobs.table.PlannedInput;
import nibble.jobs.table.QuantTable;
import nibble.jobs.table.RowWriteSupport;
import nibble.jobs.table.TensorTable;

/**
 * {@code quantize}'s write without a shuffle: one task per output file plan reads exactly that plan's
 * input rows from the dense table's files ({@link PlannedInput}), checks them against the manifest
 * ({@link InputChecksums}), quantizes them ({@link RowQuantizer}) and writes the plan's file with
 * parquet-mr ({@link PlanFileWriter}), checksumming the stored payload as it goes. Rows reach the
 * quantizer in table order, as the shuffle used to bring them to the writer, so the files and the
 * manifest are the same as before.
 */
final class PlannedQuantize {
    private PlannedQuantize() {
    }

    /** Writes every plan's quantized file into {@code dataDir}; returns each tensor's checksum of stored bytes. */
    static Map<String, String> write(SparkSession spark, String input, Manifest in, List<FilePlan> plans,
                                     Map<String, Long> storedBytes, RowQuantizer quantizer, InputChecksums read,
                                     PartitionErrors errors, String dataDir) {
        List<TensorInfo> infos = in.tensorInfos();
        long[] rowBytes = infos.stream().mapToLong(t -> storedBytes.get(t.name())).toArray();
        PlannedInput source = new PlannedInput(input, in);
        SerializableConf conf = new SerializableConf(spark.sparkContext().hadoopConfiguration());
        List<PlanFileWriter.WrittenFile> written = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(plans, Math.max(1, plans.size()))
                .map(plan -> writeOne(conf, dataDir, plan, infos, rowBytes, source, quantizer, read, errors))
                .collect();
        return PlannedFiles.checksums(plans, infos, written);
    }

    private static PlanFileWriter.WrittenFile writeOne(SerializableConf conf, String dataDir, FilePlan plan, List<TensorInfo> infos,
                                                       long[] rowBytes, PlannedInput source, RowQuantizer quantizer,
                                                       InputChecksums read, PartitionErrors errors) throws IOException {
        TaskContext ctx = TaskContext.get();
        long attempt = ctx == null ? 0 : ctx.taskAttemptId();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < infos.size(); i++) {
            index.put(infos.get(i).name(), i);
        }
        Iterator<Row> out = errors.collect(quantizer.quantizeRows(read.digest(source.rows(conf.get(), plan), r -> r)));
        try (PlanFileWriter<Row> w = new PlanFileWriter<>(conf.get(), dataDir, plan, infos, rowBytes,
                new RowWriteSupport(QuantTable.SCHEMA), List.of(QuantTable.CODES, TensorTable.DATA), "uncompressed", attempt)) {
            while (out.hasNext()) {
                Row r = out.next();
                CRC32C crc = w.begin(index.get(TensorTable.tensor(r)), TensorTable.row(r));
                long bytes = 0;
                for (int i = 3; i < r.length(); i++) { // data, codes, scales, zeros: the stored payload
                    if (!r.isNullAt(i)) {
                        byte[] b = (byte[]) r.get(i);
                        crc.update(b);
                        bytes += b.length;
                    }
                }
                w.write(r, bytes);
            }
            return w.finish();
        }
    }
}
