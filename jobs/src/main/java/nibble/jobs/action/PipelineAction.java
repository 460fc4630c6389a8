package nibble.jobs.action;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import nibble.common.InvalidInputException;
import nibble.common.json.Json;
import nibble.jobs.io.PathOverlap;
import nibble.jobs.io.Uris;
import nibble.jobs.table.OutputClaim;

/**
 * {@code pipeline}: every stage in one Spark application, following the registry convention
 * ({@link RegistryLayout}, docs/REGISTRY.md): shard, calibrate, quantize and evaluate, each an
 * action called with its arguments, and {@code _SUCCESS} written last when the gate passes. A
 * version that already has {@code _SUCCESS} is left alone unless {@link PipelineArgs#force}. The
 * prefix may not overlap the checkpoint, and is claimed for the whole run ({@link OutputClaim}), so a
 * second pipeline on the same prefix cannot replace the table the first is quantizing.
 */
public final class PipelineAction {
    private static final long MAX_MARKER_BYTES = 1 << 20;

    private PipelineAction() {
    }

    public static PipelineResult execute(SparkSession spark, PipelineArgs args) throws IOException {
        return execute(spark, args, Notes.NONE);
    }

    public static PipelineResult execute(SparkSession spark, PipelineArgs args, Notes notes) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        // the prefix may not be, hold or lie inside the checkpoint; then one pipeline at a time per prefix
        PathOverlap.requireDisjoint(args.layout().output(), List.of(new PathOverlap.Read("--input", args.input())), conf);
        Path prefix = new Path(args.layout().output());
        Path marker = new Path(args.layout().success());
        FileSystem fs = marker.getFileSystem(conf);
        try (OutputClaim claim = OutputClaim.acquire(fs, prefix, conf)) {
            claim.clearStaleTemps();
            if (fs.exists(marker) && !args.force()) {
                requireSameRequest(fs, marker, args);
                return PipelineResult.alreadyComplete(args);
            }
            fs.delete(marker, false);
            notes.note("pipeline", "stage shard");
            ShardResult shard = ShardAction.execute(spark, args.shard(), notes);
            notes.note("pipeline", "stage calibrate");
            CalibrateResult calibrate = CalibrateAction.execute(spark, args.calibrate());
            notes.note("pipeline", "stage quantize");
            QuantizeResult quantize = QuantizeAction.execute(spark, args.quantize());
            notes.note("pipeline", "stage evaluate");
            EvaluateResult evaluate = EvaluateAction.execute(spark, args.evaluate(), notes);
            if (evaluate.passed()) {
                claim.requireHeld();
                writeMarker(fs, marker, claim.tempSibling(), args);
            }
            return new PipelineResult(args, false, shard, calibrate, quantize, evaluate);
        }
    }

    /**
     * Writes {@code _SUCCESS} whole or not at all: into the claim's temporary sibling, then renamed, so
     * a run killed while writing it never leaves an empty marker that makes the prefix look complete
     * and stops the next run (the marker would not parse).
     */
    private static void writeMarker(FileSystem fs, Path marker, Path tmp, PipelineArgs args) throws IOException {
        try (OutputStream out = fs.create(tmp, true)) {
            out.write(marker(args));
        }
        if (!fs.rename(tmp, marker)) {
            throw new IOException("could not rename " + tmp + " to " + marker);
        }
    }

    /** A complete version is only "already done" for the request that made it: same input, same recipe. */
    private static void requireSameRequest(FileSystem fs, Path marker, PipelineArgs args) throws IOException {
        if (fs.getFileStatus(marker).getLen() > MAX_MARKER_BYTES) {
            throw new InvalidInputException(marker + ": " + fs.getFileStatus(marker).getLen() + " bytes, more than a marker holds");
        }
        byte[] bytes;
        try (InputStream in = fs.open(marker)) {
            bytes = in.readAllBytes();
        }
        JsonNode done = Json.parseObject(bytes, marker.toString());
        String input = Uris.redact(args.input());
        if (!input.equals(done.path("input").asText()) || !args.recipeName().equals(done.path("recipe").asText())) {
            throw new InvalidInputException(args.layout().output() + ": already complete for input " + done.path("input")
                    + " with recipe " + done.path("recipe") + ", not input \"" + input + "\" with recipe \"" + args.recipeName()
                    + "\" (pass --force to replace it)");
        }
    }

    /** The {@code _SUCCESS} record: which input and recipe made this version. */
    static byte[] marker(PipelineArgs args) {
        ObjectNode m = Json.object();
        m.put("input", Uris.redact(args.input()));
        m.put("recipe", args.recipeName());
        return Json.write(m);
    }
}
