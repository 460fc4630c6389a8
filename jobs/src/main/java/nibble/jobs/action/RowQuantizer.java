package nibble.jobs.action;

import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.HashMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import nibble.common.DType;
import nibble.common.FiniteRows;
import nibble.common.Floats;
import nibble.common.InvalidInputException;
import nibble.common.quant.AwqFolds;
import nibble.common.quant.Clip;
import nibble.common.quant.Gptq;
import nibble.common.quant.Importance;
import nibble.common.quant.Granularity;
import nibble.common.quant.QuantizedRow;
import nibble.common.quant.Quantizer;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.Scheme;
import nibble.common.quant.Treatment;
import nibble.common.stats.ErrorStats;
import nibble.jobs.spark.RowError;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.HessianTables;
import nibble.jobs.table.QuantizedTensors;
import nibble.jobs.table.TensorTable;

/**
 * The per-row work of {@code quantize}: decode a row, quantize it with its tensor's scheme (or
 * carry it over when the recipe keeps the tensor), and measure the reconstruction error in the same
 * pass. It runs before the shuffle into plan order, so the shuffle carries packed rows. Input rows
 * are a dense table's and, when a recipe clips at a percentile, the channel's clip columns
 * ({@link QuantizedTensors#withChannelClips}).
 */
final class RowQuantizer implements Serializable {
    private static final long serialVersionUID = 1L;

    private final HashMap<String, Treatment> treatments;
    private final HashMap<String, Clip> tensorClips;
    private final HashMap<String, double[]> importance;
    private final String input;
    private final Hessians hessians;
    private final HashMap<String, AwqFolds.TensorFold> folds;

    /**
     * Where GPTQ rows find their layer's Hessian: the statistics folder, each tensor's input (file
     * and width) from {@code stats.json}, the recipe's GPTQ settings, the Hadoop configuration.
     */
    record Hessians(String statsDir, HashMap<String, CalibrateResult.HessianInput> inputs, Gptq.Options options,
                    SerializableConf conf) implements Serializable {
        static final Hessians NONE = new Hessians(null, new HashMap<>(), Gptq.Options.DEFAULT, null);
    }

    /**
     * {@code importance}: each tensor's activation mean x² per input channel, for schemes that
     * weigh the clip search by it; {@code input} names the table in errors; {@code hessians}: where
     * GPTQ schemes find their layer's Hessian ({@link Hessians#NONE} without); {@code folds}: AWQ's
     * ({@link AwqScales}), a tensor listed there has each row changed by its fold before it is
     * quantized, or, when the recipe keeps it (a norm), before it is stored in its dtype.
     */
    RowQuantizer(HashMap<String, Treatment> treatments, HashMap<String, Clip> tensorClips, HashMap<String, double[]> importance,
                 String input, Hessians hessians, HashMap<String, AwqFolds.TensorFold> folds) {
        this.folds = folds;
        this.hessians = hessians;
        this.input = input;
        this.treatments = treatments;
        this.tensorClips = tensorClips;
        this.importance = importance;
    }

    /** Rows of one GPTQ tensor quantized together ({@link Gptq#quantize(String, long, float[][], Scheme, Gptq.Factor)}). */
    static final int GPTQ_BATCH = 16;

    /**
     * A partition's rows, each as {@link #quantizeRow}, except that consecutive rows of a GPTQ tensor
     * go through GPTQ in batches of up to {@link #GPTQ_BATCH} (the same bytes, fewer passes over the
     * factor). The order of the output is the input's. An input row may reuse its data array for the
     * next ({@link nibble.jobs.table.PlannedInput}): a row is quantized before the next is read, and a
     * GPTQ batch keeps copies.
     */
    Iterator<RowError> quantizeRows(Iterator<Row> in) {
        return new Iterator<>() {
            private final ArrayDeque<RowError> ready = new ArrayDeque<>();
            private final Buffers buffers = new Buffers();
            private Row held;

            @Override
            public boolean hasNext() {
                fill();
                return !ready.isEmpty();
            }

            @Override
            public RowError next() {
                fill();
                if (ready.isEmpty()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }

            private void fill() {
                if (!ready.isEmpty() || (held == null && !in.hasNext())) {
                    return;
                }
                Row first = held != null ? held : in.next();
                held = null;
                if (!(treatments.get(TensorTable.tensor(first)) instanceof Scheme s && s.importance() == Importance.HESSIAN)) {
                    ready.add(quantizeRow(first, buffers));
                    return;
                }
                List<Row> batch = new ArrayList<>();
                batch.add(owned(first));
                String tensor = TensorTable.tensor(first);
                while (batch.size() < GPTQ_BATCH && in.hasNext()) {
                    Row r = in.next();
                    if (TensorTable.tensor(r).equals(tensor) && TensorTable.row(r) == TensorTable.row(first) + batch.size()) {
                        batch.add(owned(r));
                    } else {
                        held = r;
                        break;
                    }
                }
                ready.addAll(gptqRows(batch));
            }
        };
    }

    /** The row with a copy of its data, to keep past the input's next row. */
    private static Row owned(Row r) {
        Object[] values = new Object[r.length()];
        for (int i = 0; i < values.length; i++) {
            values[i] = r.get(i);
        }
        int data = r.fieldIndex(TensorTable.DATA);
        values[data] = ((byte[]) values[data]).clone();
        return new GenericRowWithSchema(values, r.schema());
    }

    /** Consecutive rows of one GPTQ tensor. */
    private List<RowError> gptqRows(List<Row> rows) {
        Row first = rows.get(0);
        String tensor = TensorTable.tensor(first);
        long row0 = TensorTable.row(first);
        Scheme scheme = (Scheme) treatments.get(tensor);
        float[][] values = new float[rows.size()][];
        for (int i = 0; i < values.length; i++) {
            values[i] = finiteValues(tensor, row0 + i, rows.get(i), null);
        }
        QuantizedRow[] q = Gptq.quantize(tensor, row0, values, scheme, factor(tensor, values[0].length));
        List<RowError> out = new ArrayList<>(rows.size());
        for (int i = 0; i < values.length; i++) {
            ErrorStats e = new ErrorStats().add(values[i], Quantizer.dequantize(q[i], scheme, values[i].length));
            out.add(new RowError(RowFactory.create(tensor, row0 + i, TensorTable.dtype(rows.get(i)), null, q[i].codes(), q[i].scales(),
                    q[i].zeros()), e));
        }
        return out;
    }

    /**
     * Reused per partition: a row's decoded values and its reconstruction, which are garbage once its
     * error is measured. Rows of a tensor come together, so the arrays change size only between
     * tensors; without them a row's two float arrays were most of {@code quantize}'s allocation.
     */
    static final class Buffers {
        private float[] values = new float[0];
        private float[] reconstructed = new float[0];

        float[] values(int n) {
            if (values.length != n) {
                values = new float[n];
            }
            return values;
        }

        float[] reconstructed(int n) {
            if (reconstructed.length != n) {
                reconstructed = new float[n];
            }
            return reconstructed;
        }
    }

    /** The row's values, decoded into {@code buffers}' array (a new one when null), with the tensor's AWQ fold applied. */
    private float[] finiteValues(String tensor, long row, Row r, Buffers buffers) {
        byte[] data = TensorTable.data(r);
        DType dtype = DType.parse(TensorTable.dtype(r), tensor);
        int n = Floats.count(data, dtype, "tensor '" + tensor + "' row " + row);
        float[] values = buffers == null ? new float[n] : buffers.values(n);
        Floats.decode(data, n, dtype, values, 0);
        if (FiniteRows.firstNonFinite(data, dtype) >= 0) { // the bit test on the bytes; the error names value and column
            try {
                Quantizer.requireFinite(tensor, row, values);
            } catch (InvalidInputException e) {
                throw new InvalidInputException(input + ": " + e.getMessage(), e);
            }
        }
        AwqFolds.TensorFold fold = folds.get(tensor);
        return fold == null ? values : fold.apply(row, values);
    }

    /** The row's quantized-table row and its reconstruction error (none for kept tensors). */
    RowError quantizeRow(Row r, Buffers buffers) {
        String tensor = TensorTable.tensor(r);
        long row = TensorTable.row(r);
        String dtype = TensorTable.dtype(r);
        byte[] data = TensorTable.data(r);
        Treatment t = treatments.get(tensor);
        if (t == null) {
            throw new InvalidInputException(input + ": tensor '" + tensor + "' has rows but is not in the manifest");
        }
        if (t.isKeep()) {
            FiniteRows.require(input, tensor, row, data, DType.parse(dtype, input + ": tensor '" + tensor + "'"), FiniteRows.KEEP_HINT);
            if (folds.containsKey(tensor)) {
                data = Floats.encode(finiteValues(tensor, row, r, buffers), DType.parse(dtype, tensor));
            }
            return new RowError(RowFactory.create(tensor, row, dtype, data, null, null, null), null);
        }
        Scheme scheme = (Scheme) t;
        float[] values = finiteValues(tensor, row, r, buffers);
        QuantizedRow q = scheme.importance() == Importance.HESSIAN ? Gptq.quantize(tensor, row, values, scheme, factor(tensor, values.length))
                : Quantizer.quantize(tensor, row, values, scheme, clip(scheme, tensor, r), importance.get(tensor));
        float[] reconstructed = buffers.reconstructed(values.length);
        Quantizer.dequantize(q.codes(), q.scales(), q.zeros(), scheme, reconstructed);
        ErrorStats e = new ErrorStats().add(values, reconstructed);
        return new RowError(RowFactory.create(tensor, row, dtype, null, q.codes(), q.scales(), q.zeros()), e);
    }

    /** The GPTQ factor of the tensor's input, from the executor's cache ({@link HessianTables#factor}). */
    private Gptq.Factor factor(String tensor, int channels) {
        CalibrateResult.HessianInput h = hessians.inputs().get(tensor);
        if (h == null || h.channels() != channels) {
            throw new InvalidInputException(hessians.statsDir() + ": no Hessian of " + channels + " channels for tensor '" + tensor + "'");
        }
        try {
            return HessianTables.factor(hessians.statsDir(), h.file(), h.channels(), hessians.options(), hessians.conf().get());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private Clip clip(Scheme scheme, String tensor, Row r) {
        if (scheme.granularity() == Granularity.TENSOR) {
            return tensorClips.get(tensor);
        }
        if (scheme.range() == RangeMethod.PERCENTILE) {
            Float clip = r.getAs(scheme.percentile() == 99.0 ? QuantizedTensors.P99_ABS : QuantizedTensors.P999_ABS);
            if (clip == null) {
                throw new InvalidInputException("statistics: no channel statistics for tensor '" + tensor + "' row " + TensorTable.row(r));
            }
            return Clip.abs(clip);
        }
        return null;
    }
}
