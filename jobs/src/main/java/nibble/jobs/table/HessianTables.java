package nibble.jobs.table;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import nibble.common.InvalidInputException;
import nibble.common.quant.Gptq;
import nibble.common.stats.HessianAccumulator;

/**
 * The Hessians {@code calibrate --hessian} writes beside the activation statistics: folder
 * {@code hessians/}, one Parquet file per linear input ({@code part-NNNNN.parquet}, NNNNN the input's
 * number: {@code 4·layer + site}, the head's input last), one row per matrix row: {@code input},
 * {@code row}, {@code values} (the row of the mean {@code XᵀX}, float64 little-endian). So
 * {@code quantize} reads one input's matrix, not all of them; {@code stats.json} lists the files
 * and the tensors that read each input. Executors read the files themselves and keep a few
 * factors per JVM ({@link #factor}), as they keep models.
 */
public final class HessianTables {
    public static final String DIR = "hessians";
    public static final StructType SCHEMA = new StructType()
            .add("input", DataTypes.IntegerType, false)
            .add("row", DataTypes.IntegerType, false)
            .add("values", DataTypes.BinaryType, false);
    /** Factors kept per JVM (the rows of a tensor come together, so a few suffice). */
    static final int CAPACITY = 4;
    private static final Map<String, CompletableFuture<Gptq.Factor>> FACTORS = new LinkedHashMap<>(8, 0.75f, true);

    private HessianTables() {
    }

    /** The rows of one input's mean {@code XᵀX}, for the writer. */
    public static Iterator<Row> rows(HessianAccumulator.Part part) {
        int n = part.channels();
        double[] mean = part.mean();
        return new Iterator<>() {
            int r;

            @Override
            public boolean hasNext() {
                return r < n;
            }

            @Override
            public Row next() {
                if (r >= n) {
                    throw new NoSuchElementException();
                }
                ByteBuffer b = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
                for (int c = 0; c < n; c++) {
                    b.putDouble(mean[r * n + c]);
                }
                Row row = RowFactory.create(part.input(), r, b.array());
                r++;
                return row;
            }
        };
    }

    /** The {@code n×n} matrix in {@code file} (a path inside {@code statsDir}); bad input naming the file when it is not one. */
    public static double[] read(String statsDir, String file, int n, Configuration conf) throws IOException {
        Path p = new Path(statsDir, file);
        double[] h = new double[n * n];
        boolean[] seen = new boolean[n];
        try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), p).withConf(conf).build()) {
            for (Group g = reader.read(); g != null; g = reader.read()) {
                int r = g.getInteger("row", 0);
                byte[] v = g.getBinary("values", 0).getBytes();
                if (r < 0 || r >= n || seen[r] || v.length != 8 * n) {
                    throw new InvalidInputException(p + ": not a " + n + "x" + n + " Hessian (row " + r + ", " + v.length + " bytes)");
                }
                seen[r] = true;
                ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
                for (int c = 0; c < n; c++) {
                    h[r * n + c] = b.getDouble();
                }
            }
        }
        for (int r = 0; r < n; r++) {
            if (!seen[r]) {
                throw new InvalidInputException(p + ": row " + r + " of the " + n + "x" + n + " Hessian is missing");
            }
        }
        return h;
    }

    /**
     * The GPTQ factor of the Hessian in {@code file}, computed once per JVM (tasks that need the same
     * one wait for it; different ones are computed in parallel).
     */
    public static Gptq.Factor factor(String statsDir, String file, int n, Gptq.Options options, Configuration conf) throws IOException {
        Path p = new Path(statsDir, file);
        FileStatus st = p.getFileSystem(conf).getFileStatus(p);
        String key = p + "|" + st.getLen() + "|" + st.getModificationTime() + "|" + options;
        CompletableFuture<Gptq.Factor> f;
        boolean mine = false;
        synchronized (FACTORS) {
            f = FACTORS.get(key);
            if (f == null) {
                f = new CompletableFuture<>();
                FACTORS.put(key, f);
                mine = true;
                while (FACTORS.size() > CAPACITY) {
                    FACTORS.remove(FACTORS.keySet().iterator().next());
                }
            }
        }
        if (mine) {
            try {
                f.complete(Gptq.factor(read(statsDir, file, n, conf), n, options));
            } catch (IOException | RuntimeException e) {
                f.completeExceptionally(e);
                synchronized (FACTORS) {
                    FACTORS.remove(key);
                }
                throw e;
            }
        }
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(e.getCause());
        }
    }
}
