package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.LocalInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;
import nibble.common.table.Manifest;

/**
 * {@code quantize} reads each output file's rows straight from the input table's files
 * ({@code PlannedInput}): the output must not depend on how the input is split into files (rows are
 * found through the manifest's file list, skipping rows and row groups), and a table whose files do
 * not hold its rows in table order is bad input naming the file.
 */
class PlannedInputTest {
    @TempDir
    Path tmp;

    @Test
    void quantizedFilesDoNotDependOnTheInputsFiles() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(tmp.resolve("ckpt"), DType.F32, 0);
        Path many = tmp.resolve("many");
        Path one = tmp.resolve("one");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", many.toString(),
                "--target-file-mb", "0.03").code());
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", one.toString()).code());
        assertTrue(Tables.manifest(many).files().size() > 10, "many input files");
        assertEquals(1, Tables.manifest(one).files().size());
        Path qa = tmp.resolve("qa");
        Path qb = tmp.resolve("qb");
        // output files of ~20 KB: each spans parts of several input files, and input files feed several outputs
        quantize(many, qa);
        quantize(one, qb);
        Manifest ma = Tables.manifest(qa);
        Manifest mb = Tables.manifest(qb);
        assertTrue(ma.files().size() > 3, "several output files");
        assertEquals(ma.checksums(), mb.checksums());
        assertEquals(ma.files(), mb.files());
        assertSameFiles(qa, qb);
    }

    /** {@code quantize} int4-g32 into output files of ~20 KB. */
    private static void quantize(Path table, Path out) {
        assertEquals(0, TestSpark.nibble("quantize", "--input", table.toString(), "--output", out.toString(),
                "--recipe", "int4-g32", "--target-file-mb", "0.02").code());
    }

    /** Asserts the two tables' data files have the same names and bytes; returns the first's. */
    private static Map<String, byte[]> assertSameFiles(Path a, Path b) throws Exception {
        Map<String, byte[]> fa = Tables.files(a.resolve("tensors"));
        Map<String, byte[]> fb = Tables.files(b.resolve("tensors"));
        assertEquals(fa.keySet(), fb.keySet());
        fa.forEach((k, v) -> assertArrayEquals(v, fb.get(k), k));
        return fa;
    }

    /**
     * One input file of many small row groups: the reader hands each row group's buffers back to its
     * pool and reads the next into them, and skips whole row groups, so the output must still be the
     * one-row-group file's.
     */
    @Test
    void manyRowGroupsGiveTheSameQuantizedFiles() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(tmp.resolve("ckpt"), DType.F32, 0);
        Path one = tmp.resolve("one");
        Path groups = tmp.resolve("groups");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", one.toString()).code());
        var conf = TestSpark.session().sparkContext().hadoopConfiguration();
        conf.setInt("parquet.block.size", 4096);
        try {
            assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", groups.toString()).code());
        } finally {
            conf.unset("parquet.block.size");
        }
        String file = Tables.manifest(groups).files().get(0).path();
        try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(groups.resolve(file)))) {
            assertTrue(reader.getRowGroups().size() > 3, reader.getRowGroups().size() + " row groups");
        }
        Path qa = tmp.resolve("qa");
        Path qb = tmp.resolve("qb");
        quantize(one, qa);
        quantize(groups, qb);
        assertTrue(assertSameFiles(qa, qb).size() > 3, "several output files");
        assertEquals(Tables.manifest(qa).checksums(), Tables.manifest(qb).checksums());
    }

    @Test
    void filesOutOfTableOrderAreBadInput() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(tmp.resolve("ckpt"), DType.F32, 0);
        Path table = tmp.resolve("table");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", table.toString(),
                "--target-file-mb", "0.03").code());
        Path data = table.resolve("tensors");
        // swap the contents of two files (and drop their .crc sidecars, which would no longer match)
        Path a = data.resolve("part-00001.parquet");
        Path b = data.resolve("part-00002.parquet");
        Files.deleteIfExists(data.resolve(".part-00001.parquet.crc"));
        Files.deleteIfExists(data.resolve(".part-00002.parquet.crc"));
        Path t = data.resolve("swap");
        Files.move(a, t);
        Files.move(b, a);
        Files.move(t, b, StandardCopyOption.ATOMIC_MOVE);
        Path out = tmp.resolve("q");
        TestSpark.Run r = TestSpark.nibble("quantize", "--input", table.toString(), "--output", out.toString(),
                "--recipe", "int4-g32");
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains(table + "/tensors/part-0000"), r.err());
        assertFalse(Files.exists(out.resolve("manifest.json")));
    }
}
