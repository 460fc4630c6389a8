package nibble.jobs.action;

import java.io.Serializable;
import java.util.HashMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import nibble.common.DType;
import nibble.common.Floats;
import nibble.common.InvalidInputException;
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
     * weigh the clip search by it; {@code input} names the table in errors.
     */
    RowQuantizer(HashMap<String, Treatment> treatments, HashMap<String, Clip> tensorClips, HashMap<String, double[]> importance,
                 String input) {
        this(treatments, tensorClips, importance, input, Hessians.NONE);
    }

    /** With the Hessians that schemes of importance {@code hessian} (GPTQ) need. */
    RowQuantizer(HashMap<String, Treatment> treatments, HashMap<String, Clip> tensorClips, HashMap<String, double[]> importance,
                 String input, Hessians hessians) {
        this.hessians = hessians;
        this.input = input;
        this.treatments = treatments;
        this.tensorClips = tensorClips;
        this.importance = importance;
    }

    /** The row's quantized-table row and its reconstruction error (none for kept tensors). */
    RowError quantizeRow(Row r) {
        String tensor = TensorTable.tensor(r);
        long row = TensorTable.row(r);
        String dtype = TensorTable.dtype(r);
        byte[] data = TensorTable.data(r);
        Treatment t = treatments.get(tensor);
        if (t == null) {
            throw new InvalidInputException(input + ": tensor '" + tensor + "' has rows but is not in the manifest");
        }
        if (t.isKeep()) {
            return new RowError(RowFactory.create(tensor, row, dtype, data, null, null, null), null);
        }
        Scheme scheme = (Scheme) t;
        float[] values = Floats.decode(data, DType.parse(dtype, tensor), "tensor '" + tensor + "' row " + row);
        try {
            Quantizer.requireFinite(tensor, row, values);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(input + ": " + e.getMessage(), e);
        }
        QuantizedRow q = scheme.importance() == Importance.HESSIAN ? gptq(tensor, row, values, scheme)
                : Quantizer.quantize(tensor, row, values, scheme, clip(scheme, tensor, r), importance.get(tensor));
        ErrorStats e = new ErrorStats().add(values, Quantizer.dequantize(q, scheme, values.length));
        return new RowError(RowFactory.create(tensor, row, dtype, null, q.codes(), q.scales(), q.zeros()), e);
    }

    private QuantizedRow gptq(String tensor, long row, float[] values, Scheme scheme) {
        CalibrateResult.HessianInput h = hessians.inputs().get(tensor);
        if (h == null || h.channels() != values.length) {
            throw new InvalidInputException(hessians.statsDir() + ": no Hessian of " + values.length + " channels for tensor '" + tensor + "'");
        }
        Gptq.Factor f;
        try {
            f = HessianTables.factor(hessians.statsDir(), h.file(), h.channels(), hessians.options(), hessians.conf().get());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return Gptq.quantize(tensor, row, values, scheme, f);
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
