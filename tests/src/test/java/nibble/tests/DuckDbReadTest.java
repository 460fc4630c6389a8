package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;

/** The tensor table is plain Parquet: an independent reader (DuckDB) sees the same rows and bytes. */
class DuckDbReadTest {
    @TempDir
    Path tmp;

    @Test
    void duckDbReadsTheTable() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(tmp.resolve("ckpt"), DType.BF16, 0);
        Path table = tmp.resolve("table");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", table.toString(),
                "--target-file-mb", "1").code());
        Manifest m = Tables.manifest(table);
        Map<String, byte[]> spark = Tables.tensorBytes(table);
        String files = table.resolve("tensors").toString() + "/*.parquet";
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT tensor) FROM read_parquet('" + files + "')")) {
                rs.next();
                assertEquals(m.totalRows(), rs.getLong(1));
                assertEquals(m.tensors().size(), rs.getLong(2));
            }
            try (PreparedStatement q = c.prepareStatement("SELECT data, dtype FROM read_parquet('" + files
                    + "') WHERE tensor = ? AND \"row\" = ?")) {
                for (TensorEntry e : m.tensors()) {
                    long row = e.info().rows() - 1;
                    q.setString(1, e.info().name());
                    q.setLong(2, row);
                    try (ResultSet rs = q.executeQuery()) {
                        rs.next();
                        int len = (int) e.info().rowBytes();
                        byte[] expected = java.util.Arrays.copyOfRange(spark.get(e.info().name()),
                                (int) (row * len), (int) (row * len + len));
                        assertArrayEquals(expected, rs.getBytes(1), e.info().name());
                        assertEquals("BF16", rs.getString(2));
                    }
                }
            }
        }
    }
}
