package nibble.common.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import nibble.common.quant.Quantizer;
import nibble.common.quant.QuantizedRow;
import nibble.common.quant.RowLayout;
import nibble.common.quant.Scheme;
import nibble.common.quant.VectorSupport;

/**
 * For bin/bench-kernels: writes {@link QuantizeBenchmark#data()} as raw little-endian F32 (for the
 * ggml harness, so both quantize the same floats) and prints, per benchmark name given, its SQNR in
 * dB (signal power over squared error of the dequantized rows, all rows pooled) and stored bits per
 * weight. Usage: {@code KernelSqnr <out.f32> <benchmark>...}.
 */
public final class KernelSqnr {
    private KernelSqnr() {
    }

    public static void main(String[] args) throws IOException {
        float[][] rows = QuantizeBenchmark.data();
        ByteBuffer b = ByteBuffer.allocate(rows.length * rows[0].length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] r : rows) {
            b.asFloatBuffer().put(r);
            b.position(b.position() + r.length * 4);
        }
        Files.write(Path.of(args[0]), b.array());
        System.out.println("# kernels: " + VectorSupport.describe());
        for (int a = 1; a < args.length; a++) {
            Scheme s = QuantizeBenchmark.scheme(args[a]);
            double sig = 0;
            double err = 0;
            for (int i = 0; i < rows.length; i++) {
                QuantizedRow q = Quantizer.quantize("bench", i, rows[i], s);
                float[] y = Quantizer.dequantize(q, s, rows[i].length);
                for (int j = 0; j < y.length; j++) {
                    double v = rows[i][j];
                    double d = v - y[j];
                    sig += v * v;
                    err += d * d;
                }
            }
            System.out.printf("%s %.3f %.3f%n", args[a], 10 * Math.log10(sig / err), RowLayout.of(s, rows[0].length).bitsPerWeight());
        }
    }
}
