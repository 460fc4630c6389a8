package nibble.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import nibble.common.InvalidInputException;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Output/input overlap on qualified paths: pure Hadoop path logic, local file system, no Spark. */
class PathOverlapTest {
    @TempDir
    Path tmp;

    private static org.apache.hadoop.fs.Path p(String s) {
        return new org.apache.hadoop.fs.Path(s);
    }

    @Test
    void relations() {
        assertEquals(PathOverlap.Relation.IS, PathOverlap.relation(p("s3a://b/t"), p("s3a://b/t")));
        assertEquals(PathOverlap.Relation.CONTAINS, PathOverlap.relation(p("s3a://b/t"), p("s3a://b/t/tensors")));
        assertEquals(PathOverlap.Relation.INSIDE, PathOverlap.relation(p("s3a://b/t/tensors/x"), p("s3a://b/t/tensors")));
        assertEquals(PathOverlap.Relation.CONTAINS, PathOverlap.relation(p("s3a://b/"), p("s3a://b/t")));
        assertNull(PathOverlap.relation(p("s3a://b/t2"), p("s3a://b/t")), "a common prefix is not containment");
        assertNull(PathOverlap.relation(p("s3a://b/t/stats"), p("s3a://b/t/tensors")));
        assertNull(PathOverlap.relation(p("s3a://other/t"), p("s3a://b/t")));
        assertNull(PathOverlap.relation(p("hdfs://nn/t"), p("file:/t")));
    }

    @Test
    void spellingsOfOnePlaceAllOverlap() throws Exception {
        Configuration conf = new Configuration();
        String abs = tmp.resolve("t").toString();
        String relative = Path.of("").toAbsolutePath().relativize(tmp.resolve("t")).toString();
        List<PathOverlap.Read> reads = PathOverlap.table("--input", abs);
        for (String output : new String[] {abs, abs + "/", "file:" + abs, "file://" + abs + "/", relative, "./" + relative + "/",
            tmp + "/./t", tmp + "/x/../t", tmp.toString(), abs + "/tensors", abs + "/tensors/part-00000.parquet", abs + "/manifest.json"}) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> PathOverlap.requireDisjoint(output, reads, conf), output);
            assertTrue(e.getMessage().startsWith(output + ": the output "), e.getMessage());
            assertTrue(e.getMessage().contains("(--input), which this run reads"), e.getMessage());
        }
        // the table's own folder may hold other outputs: calibrate writes <table>/stats
        PathOverlap.requireDisjoint(abs + "/stats", reads, conf);
        PathOverlap.requireDisjoint("file:" + abs + "/stats/", reads, conf);
        PathOverlap.requireDisjoint(abs + "2", reads, conf);
    }

    @Test
    void messagesSayHowTheyOverlap() {
        Configuration conf = new Configuration();
        String t = tmp.resolve("t").toString();
        assertTrue(assertThrows(InvalidInputException.class,
                () -> PathOverlap.requireDisjoint(t, List.of(new PathOverlap.Read("--input", t)), conf)).getMessage()
                .contains("the output is " + t + " (--input)"));
        assertTrue(assertThrows(InvalidInputException.class,
                () -> PathOverlap.requireDisjoint(t + "/q", List.of(new PathOverlap.Read("--input", t)), conf)).getMessage()
                .contains("the output lies inside " + t));
        assertTrue(assertThrows(InvalidInputException.class,
                () -> PathOverlap.requireDisjoint(tmp.toString(), PathOverlap.table("--original", t), conf)).getMessage()
                .contains("the output contains " + t + "/manifest.json (--original)"));
    }
}
