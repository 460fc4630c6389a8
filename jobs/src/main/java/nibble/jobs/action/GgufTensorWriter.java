package nibble.jobs.action;

import java.io.IOException;
import nibble.common.InvalidInputException;
import nibble.common.format.GgmlType;
import nibble.common.format.GgufExport;
import nibble.common.format.GgufRows;
import nibble.common.format.GgufWriter;
import nibble.common.quant.Quantizer;
import nibble.common.quant.RowLayout;
import nibble.common.quant.Scheme;
import nibble.common.table.TensorEntry;
import nibble.jobs.table.OrderedRows;

/**
 * Turns a table's rows, in table order, into the GGUF tensors of an {@link GgufExport.Plan}: each row
 * is encoded as its tensor's ggml type says, and q/k tensors whose rows are permuted are gathered
 * and written in llama.cpp's order. Where the written values differ from the table's (re-quantized,
 * or a Q4_1 minimum rounded to F16), it counts them and measures the SQNR against the table's values.
 */
final class GgufTensorWriter implements OrderedRows.Visitor {
    /** Called when a tensor is complete. */
    interface Done {
        void tensor(ExportResult.Tensor tensor);
    }

    private final GgufWriter out;
    private final GgufExport.Plan plan;
    private final boolean strict;
    private final String table;
    private final Done done;
    private final ExportAction.Progress progress;
    private int index;
    private byte[][] gathered;
    private long changed;
    private double errorSq;
    private double signalSq;

    GgufTensorWriter(GgufWriter out, GgufExport.Plan plan, boolean strict, String table, Done done, ExportAction.Progress progress) {
        this.out = out;
        this.plan = plan;
        this.strict = strict;
        this.table = table;
        this.done = done;
        this.progress = progress;
    }

    @Override
    public void row(OrderedRows.StoredRow r) throws IOException {
        GgufExport.Tensor t = plan.tensors().get(index);
        byte[] bytes = encode(t, r);
        if (t.ropeHeads() > 0) {
            if (gathered == null) {
                gathered = new byte[Math.toIntExact(t.entry().info().rows())][];
            }
            gathered[r.row()] = bytes;
            return;
        }
        out.write(bytes, 0, bytes.length);
        progress.at(out.position());
    }

    @Override
    public void endTensor(TensorEntry entry) throws IOException {
        GgufExport.Tensor t = plan.tensors().get(index);
        if (gathered != null) {
            for (int r = 0; r < gathered.length; r++) {
                byte[] b = gathered[t.sourceRow(r)];
                out.write(b, 0, b.length);
            }
            progress.at(out.position());
            gathered = null;
        }
        out.endTensor();
        Double sqnr = changed == 0 ? null : 10 * Math.log10(signalSq / errorSq);
        done.tensor(new ExportResult.Tensor(entry.info().name(), t.slot().name(), t.slot().type(), t.carry(), changed, sqnr));
        index++;
        changed = 0;
        errorSq = 0;
        signalSq = 0;
    }

    private byte[] encode(GgufExport.Tensor t, OrderedRows.StoredRow r) {
        int n = Math.toIntExact(t.entry().info().rowLength());
        if (t.carry() == GgufExport.Carry.COPY) {
            if (r.data() == null || r.data().length != t.rowBytes()) {
                throw bad(r, "has " + (r.data() == null ? "no data" : r.data().length + " data bytes") + ", expected " + t.rowBytes());
            }
            return r.data();
        }
        Scheme s = t.entry().quant().scheme();
        try {
            RowLayout.of(s, n).requireStored(r.codes(), r.scales(), r.zeros());
        } catch (InvalidInputException e) {
            throw bad(r, e.getMessage());
        }
        byte[] bytes = new byte[t.rowBytes()];
        GgmlType type = t.slot().type();
        switch (t.carry()) {
            case REPACK -> {
                if (type == GgmlType.Q4_0) {
                    GgufRows.q4_0(r.codes(), r.scales(), n, bytes, 0);
                } else if (type == GgmlType.Q8_0) {
                    GgufRows.q8_0(r.codes(), r.scales(), n, bytes, 0);
                } else if (type == GgmlType.Q4_K) {
                    GgufRows.q4_K(r.codes(), r.scales(), n, bytes, 0);
                } else if (GgufRows.q4_1(r.codes(), r.scales(), r.zeros(), n, bytes, 0) > 0) {
                    if (strict) {
                        throw bad(r, "has a zero-point whose Q4_1 minimum does not fit F16, so Q4_1 cannot store its values"
                                + " unchanged (--strict)");
                    }
                    measure(dequantized(s, r, n), bytes, type);
                }
            }
            case REQUANTIZE -> {
                float[] values = dequantized(s, r, n);
                GgufRows.quantize(type, r.entry().info().name(), r.row(), values, bytes, 0);
                measure(values, bytes, type);
            }
            case DEQUANTIZE -> GgufRows.f32(dequantized(s, r, n), bytes, 0);
            default -> throw new IllegalStateException(t.carry().name());
        }
        return bytes;
    }

    private static float[] dequantized(Scheme s, OrderedRows.StoredRow r, int n) {
        return Quantizer.dequantize(r.codes(), r.scales(), r.zeros(), s, n);
    }

    private void measure(float[] table, byte[] written, GgmlType type) {
        float[] got = new float[table.length];
        type.dequantize(written, 0, table.length, got, 0);
        for (int i = 0; i < table.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(table[i])) {
                changed++;
            }
            double d = (double) got[i] - table[i];
            errorSq += d * d;
            signalSq += (double) table[i] * table[i];
        }
    }

    private InvalidInputException bad(OrderedRows.StoredRow r, String problem) {
        return new InvalidInputException(table + ": tensor '" + r.entry().info().name() + "' row " + r.row() + " " + problem);
    }
}
