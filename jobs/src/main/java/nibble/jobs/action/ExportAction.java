package nibble.jobs.action;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import nibble.common.InvalidInputException;
import nibble.common.format.GgufExport;
import nibble.common.format.GgufWriter;
import nibble.common.table.Manifest;
import nibble.jobs.io.PathOverlap;
import nibble.jobs.io.Uris;
import nibble.jobs.table.FileCommitter;
import nibble.jobs.table.OrderedRows;
import nibble.jobs.table.TensorTable;

/**
 * {@code nibble export}: writes a tensor table as one GGUF file for llama.cpp ({@link GgufExport}
 * decides names, types and row order). A GGUF file is one sequential stream, so the driver writes
 * it: rows stream from the table's Parquet files in table order, each checked against the manifest,
 * through {@link GgufTensorWriter} into the file, which is written under a temporary name and
 * renamed when complete. Memory stays at one row, or one q/k tensor when its rows are permuted.
 */
public final class ExportAction {
    private static final String ACTION = "export";

    private ExportAction() {
    }

    public static ExportResult execute(SparkSession spark, ExportArgs args, Notes notes) throws IOException {
        long t0 = System.nanoTime();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Manifest m = TensorTable.readManifest(args.input(), conf);
        GgufExport.Plan plan = GgufExport.plan(m, Uris.redact(args.input()));
        if (args.strict()) {
            requireExact(plan, args.input());
        }
        long total = GgufWriter.dataBytes(plan.slots());
        notes.note(ACTION, m.tensors().size() + " tensors, " + String.format(Locale.ROOT, "%.1f MB", total / 1e6)
                + " of GGUF data to " + Uris.redact(args.output()));
        List<ExportResult.Tensor> done = new ArrayList<>();
        long bytes;
        try (FileCommitter out = FileCommitter.begin(args.output(), args.overwrite(), conf, List.of(new PathOverlap.Read("--input", args.input())))) {
            try (OutputStream os = new BufferedOutputStream(out.create(), 1 << 20)) {
                GgufWriter w = new GgufWriter(os, plan.metadata(), plan.slots());
                GgufTensorWriter tw = new GgufTensorWriter(w, plan, args.strict(), Uris.redact(args.input()),
                        t -> {
                            done.add(t);
                            if (t.changedValues() > 0) {
                                notes.note(ACTION, "tensor '" + t.name() + "': " + t.carry().name().toLowerCase(Locale.ROOT)
                                        + " to " + t.type() + " changed " + t.changedValues() + " values (SQNR "
                                        + String.format(Locale.ROOT, "%.1f", t.sqnrDb()) + " dB against the table)");
                            }
                        }, new Progress(notes, total));
                OrderedRows.read(args.input(), m, conf, tw);
                w.finish();
                bytes = w.position();
            }
            out.commit();
        }
        return new ExportResult(args, List.copyOf(done), bytes, System.nanoTime() - t0);
    }

    private static void requireExact(GgufExport.Plan plan, String input) {
        for (GgufExport.Tensor t : plan.tensors()) {
            if (t.carry() == GgufExport.Carry.REQUANTIZE) {
                throw new InvalidInputException(Uris.redact(input) + ": tensor '" + t.entry().info().name() + "' ("
                        + t.entry().quant().label() + ") has no GGUF type that stores its values unchanged (--strict; without it"
                        + " the tensor is re-quantized to " + t.slot().type() + ")");
            }
        }
    }

    /** Notes at every tenth of the data written. */
    static final class Progress {
        private final Notes notes;
        private final long total;
        /** Exports smaller than this finish too fast to need progress lines. */
        private static final long QUIET_BELOW = 16L << 20;
        private int reported;

        Progress(Notes notes, long total) {
            this.notes = notes;
            this.total = Math.max(1, total);
            this.reported = total < QUIET_BELOW ? 10 : 0;
        }

        void at(long written) {
            int tenth = (int) Math.min(10, written * 10 / total);
            if (tenth > reported) {
                reported = tenth;
                notes.note(ACTION, String.format(Locale.ROOT, "%d%% (%.1f of %.1f MB)", 10 * tenth, written / 1e6, total / 1e6));
            }
        }
    }
}
