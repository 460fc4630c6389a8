package nibble.jobs.action;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import nibble.common.FiniteRows;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.format.CheckpointHeader;
import nibble.common.format.CheckpointReader;
import nibble.common.format.SourceTensor;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;
import nibble.common.table.ShardPlanner;
import nibble.common.table.TensorEntry;
import nibble.jobs.io.HadoopCheckpointFiles;
import nibble.jobs.io.PathOverlap;
import nibble.jobs.io.Uris;
import nibble.jobs.spark.JobDescription;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.PlannedFiles;
import nibble.jobs.table.SourceRows;
import nibble.jobs.table.TableCommitter;
import nibble.jobs.table.TensorTable;

/**
 * {@code shard}: a checkpoint (safetensors file or folder, llama2.c {@code .bin}, GGUF) or an existing
 * tensor table in, a tensor table out. The driver reads only headers and plans files of about
 * {@link ShardArgs#targetFileBytes} each. From a checkpoint, each task reads its plan's row ranges
 * ({@link SourceRows}) straight into its file's Parquet writer and checksums them as they pass
 * ({@link PlannedFiles}): no shuffle and no second read. From a table (a re-shard, e.g. to change
 * {@code --target-file-mb} or {@code --compression}), each task reads its plan's rows from the input
 * table's files in the same way ({@link PlannedReshard}), and the checksums computed as they are
 * written must equal the input manifest's.
 * A NaN or an infinity in any row is refused, naming the tensor and row ({@link FiniteRows}), unless
 * {@code --allow-non-finite}.
 */
public final class ShardAction {
    private ShardAction() {
    }

    public static ShardResult execute(SparkSession spark, ShardArgs args) throws IOException {
        return execute(spark, args, Notes.NONE);
    }

    public static ShardResult execute(SparkSession spark, ShardArgs args, Notes notes) throws IOException {
        long started = System.nanoTime();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        boolean table = TensorTable.isTable(args.input(), conf);
        // a table's data is its manifest and tensors/; a checkpoint is the file or folder given
        List<PathOverlap.Read> reads = table ? PathOverlap.table("--input", args.input()) : List.of(new PathOverlap.Read("--input", args.input()));
        try (TableCommitter committer = TableCommitter.begin(args.output(), args.overwrite(), conf, reads)) {
            Manifest m = table
                    ? reshard(spark, args, committer)
                    : shard(spark, args, committer, notes);
            return new ShardResult(args, m, System.nanoTime() - started);
        }
    }

    private static Manifest shard(SparkSession spark, ShardArgs args, TableCommitter committer, Notes notes) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        HadoopCheckpointFiles files = HadoopCheckpointFiles.open(args.input(), conf);
        CheckpointHeader header = CheckpointReader.read(files);
        if (header.tensors().isEmpty()) {
            throw new InvalidInputException(args.input() + ": the checkpoint holds no tensors");
        }
        List<TensorInfo> infos = new ArrayList<>();
        for (SourceTensor t : header.tensors()) {
            infos.add(t.info());
        }
        List<FilePlan> plans = ShardPlanner.plan(infos, args.targetFileBytes());
        notes.note("shard", header.format() + " checkpoint: " + infos.size() + " tensors in "
                + header.files().size() + " file(s); " + plans.size() + " output file(s)");
        SourceRows source = new SourceRows(files.baseDir(), header.tensors(), new SerializableConf(conf), Uris.redact(args.input()),
                args.allowNonFinite());
        Map<String, String> checksums = JobDescription.run(spark, "read source, write tensors",
                () -> PlannedFiles.write(spark, plans, infos, source, args.compression(), committer.tempDataDir()));
        Map<String, Object> src = new LinkedHashMap<>();
        src.put("format", header.format());
        src.put("uri", Uris.redact(args.input()));
        src.put("files", header.files());
        src.putAll(header.sourceMetadata());
        List<TensorEntry> entries = new ArrayList<>();
        for (SourceTensor t : header.tensors()) {
            String sourceType = t.sourceType() == null ? null : t.sourceType().name();
            entries.add(new TensorEntry(t.info(), checksums.get(t.info().name()), t.sourceName(), sourceType, null));
        }
        return committer.commit(plans, written -> new Manifest(Manifest.Kind.DENSE, src, header.architecture(), entries, written));
    }

    private static Manifest reshard(SparkSession spark, ShardArgs args, TableCommitter committer) throws IOException {
        String input = args.input();
        Manifest in = TensorTable.readManifest(input, spark.sparkContext().hadoopConfiguration());
        if (in.kind() != Manifest.Kind.DENSE) {
            throw new InvalidInputException(input + ": shard re-shards dense tables; this one is '" + in.kind().label() + "'");
        }
        List<FilePlan> plans = ShardPlanner.plan(in.tensorInfos(), args.targetFileBytes());
        JobDescription.run(spark, "read table, write tensors", () -> PlannedReshard.write(spark, input, in, plans,
                args.compression(), args.allowNonFinite(), committer.tempDataDir()));
        Map<String, Object> src = new LinkedHashMap<>();
        src.put("format", Manifest.FORMAT);
        src.put("uri", Uris.redact(input));
        src.put("origin", in.source());
        return committer.commit(plans, written -> new Manifest(Manifest.Kind.DENSE, src, in.architecture(), in.tensors(), written));
    }
}
