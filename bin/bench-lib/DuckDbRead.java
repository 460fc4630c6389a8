import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * Baseline for bin/bench-shard and bin/bench-quantize: DuckDB (JDBC, in-process) reads every row of a
 * table's Parquet files, every data page, and sums the payload lengths on THREADS threads. Prints
 * "seconds rows bytes" (query time only, the JVM start excluded). Usage: DuckDbRead <table> <threads>.
 */
public final class DuckDbRead {
    public static void main(String[] args) throws Exception {
        String files = args[0] + "/tensors/*.parquet";
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
            s.execute("SET threads = " + Integer.parseInt(args[1]));
            long t0 = System.nanoTime();
            try (ResultSet rs = s.executeQuery("SELECT count(*), sum(octet_length(data)) FROM read_parquet('" + files + "')")) {
                rs.next();
                double secs = (System.nanoTime() - t0) / 1e9;
                System.out.printf("%.3f %d %d%n", secs, rs.getLong(1), rs.getLong(2));
            }
        }
    }
}
