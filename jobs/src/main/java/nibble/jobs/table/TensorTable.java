package nibble.jobs.table;

import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import nibble.common.InvalidInputException;
import nibble.common.table.Manifest;

/** The dense tensor table's Parquet schema (format v1) and how to find a table's manifest. */
public final class TensorTable {
    public static final String TENSOR = "tensor";
    public static final String ROW = "row";
    public static final String DTYPE = "dtype";
    public static final String DATA = "data";

    public static final StructType SCHEMA = new StructType()
            .add(TENSOR, DataTypes.StringType, false)
            .add(ROW, DataTypes.LongType, false)
            .add(DTYPE, DataTypes.StringType, false)
            .add(DATA, DataTypes.BinaryType, false);

    private TensorTable() {
    }

    /** The tensor name of any Nibble row: every table and intermediate row starts with {@code tensor, row}. */
    public static String tensor(Row r) {
        return r.getString(0);
    }

    /** The row index of any Nibble row (see {@link #tensor(Row)}). */
    public static long row(Row r) {
        return r.getLong(1);
    }

    /** The dtype column of a row read with a schema (a table's rows, or a join of them). */
    public static String dtype(Row r) {
        return r.getAs(DTYPE);
    }

    /** The data column of a row read with a schema. */
    public static byte[] data(Row r) {
        return r.getAs(DATA);
    }

    /** True when {@code dir} holds a manifest, i.e. is a complete table. */
    public static boolean isTable(String dir, Configuration conf) throws IOException {
        Path p = new Path(dir, Manifest.FILE_NAME);
        return p.getFileSystem(conf).exists(p);
    }

    /** Reads and validates {@code dir/manifest.json}; a directory without one is not a table. */
    public static Manifest readManifest(String dir, Configuration conf) throws IOException {
        Path p = new Path(dir, Manifest.FILE_NAME);
        FileSystem fs = p.getFileSystem(conf);
        if (!fs.exists(p)) {
            throw new InvalidInputException(dir + ": not a tensor table (no " + Manifest.FILE_NAME
                    + "; an incomplete write never has one)");
        }
        FileStatus st = fs.getFileStatus(p);
        if (st.getLen() > Manifest.MAX_BYTES) {
            throw new InvalidInputException(p + ": manifest is " + st.getLen() + " bytes, over the "
                    + Manifest.MAX_BYTES + "-byte limit");
        }
        byte[] bytes = new byte[(int) st.getLen()];
        try (InputStream in = fs.open(p)) {
            org.apache.hadoop.io.IOUtils.readFully(in, bytes, 0, bytes.length);
        }
        return Manifest.parse(bytes, p.toString());
    }

    /** A dense table's rows, columns in {@link #SCHEMA} order. */
    public static Dataset<Row> read(SparkSession spark, String tableDir) {
        return spark.read().schema(SCHEMA).parquet(dataDir(tableDir));
    }

    /** The folder of a table's Parquet files. */
    public static String dataDir(String tableDir) {
        return new Path(tableDir, Manifest.DATA_DIR).toString();
    }
}
