package nibble.common.fuzz;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import nibble.common.InvalidInputException;
import nibble.common.format.CheckpointFiles;
import nibble.common.format.CheckpointHeader;
import nibble.common.format.CheckpointReader;
import nibble.common.format.SourceTensor;
import nibble.common.io.ByteSource;
import nibble.common.quant.Recipe;
import nibble.common.table.Manifest;

/**
 * The fuzz targets: a safetensors, llama2.c or GGUF file, a recipe or a manifest made of arbitrary
 * bytes must end in a result or an {@link InvalidInputException}; any other exception is a finding.
 * The file is held in memory behind a {@link ByteSource} that refuses (with an {@link IllegalStateException},
 * a finding) any read that would need a buffer larger than the file (plus 1 MiB of working buffers): a
 * reader must check a length it found in the file against the file's size before allocating for it. A checkpoint that parses must
 * lay every tensor inside the file, and each tensor's first row must decode to its row size.
 * Hangs and heap exhaustion are caught by the fuzzer (bin/fuzz: {@code -timeout}, {@code -Xmx}).
 */
public final class FuzzTargets {
    /** The targets by name, as {@code bin/fuzz} and {@link FuzzMain} name them. */
    public static final List<String> NAMES = List.of("safetensors", "llama2c", "gguf", "recipe", "manifest");

    private FuzzTargets() {
    }

    public static void run(String target, byte[] data) {
        switch (target) {
            case "safetensors" -> checkpoint("model.safetensors", data);
            case "llama2c" -> checkpoint("model.bin", data);
            case "gguf" -> checkpoint("model.gguf", data);
            case "recipe" -> recipe(data);
            case "manifest" -> manifest(data);
            default -> throw new IllegalArgumentException("unknown fuzz target '" + target + "'; known: " + NAMES);
        }
    }

    static void recipe(byte[] data) {
        try {
            Recipe.parse(new String(data, StandardCharsets.UTF_8), "fuzz-recipe.json");
        } catch (InvalidInputException expected) {
            // a refused recipe
        }
    }

    static void manifest(byte[] data) {
        try {
            Manifest.parse(data, "fuzz/manifest.json");
        } catch (InvalidInputException expected) {
            // a refused manifest
        }
    }

    static void checkpoint(String name, byte[] data) {
        CheckpointHeader header;
        try {
            header = CheckpointReader.read(new OneFile(name, data));
        } catch (InvalidInputException expected) {
            return;
        } catch (IOException e) {
            throw new IllegalStateException("an I/O error from an in-memory file: " + e, e);
        }
        for (SourceTensor t : header.tensors()) {
            long bytes = t.sourceByteLength();
            if (t.offset() < 0 || bytes < 0 || t.offset() + bytes > data.length) {
                throw new IllegalStateException("tensor '" + t.info().name() + "' at " + t.offset() + " (+" + bytes
                        + ") lies outside the " + data.length + "-byte file");
            }
            if (t.info().rows() > 0) {
                byte[] raw = Arrays.copyOfRange(data, (int) t.offset(), (int) (t.offset() + t.sourceRowBytes()));
                byte[] row = t.decodeRow(raw);
                if (row.length != t.info().rowBytes()) {
                    throw new IllegalStateException("tensor '" + t.info().name() + "': a row decodes to " + row.length
                            + " bytes, not " + t.info().rowBytes());
                }
            }
        }
    }

    /** A checkpoint of one in-memory file. */
    private record OneFile(String name, byte[] data) implements CheckpointFiles {
        @Override
        public String root() {
            return name;
        }

        @Override
        public List<String> list() {
            return List.of(name);
        }

        @Override
        public ByteSource open(String file) throws IOException {
            if (!file.equals(name)) {
                throw new java.io.FileNotFoundException(file);
            }
            return new Memory(name, data);
        }
    }

    /** Buffers the readers may use beyond the file's size (the GGUF reader reads through a 64 KiB window). */
    static final int SLACK = 1 << 20;

    /** Positioned reads from a byte array; a buffer over the file's size + {@link #SLACK} is a finding, a read past its end an EOF. */
    private record Memory(String name, byte[] data) implements ByteSource {
        @Override
        public long length() {
            return data.length;
        }

        @Override
        public byte[] read(long position, int len) throws IOException {
            requireBuffer(len);
            return ByteSource.super.read(position, len);
        }

        @Override
        public void readFully(long position, byte[] buffer, int offset, int len) throws IOException {
            requireBuffer(buffer.length);
            if (position < 0 || len < 0 || position > data.length - (long) len) {
                throw new EOFException(name + ": " + len + " bytes at " + position + " run past the end (" + data.length + " bytes)");
            }
            System.arraycopy(data, (int) position, buffer, offset, len);
        }

        private void requireBuffer(long len) {
            if (len > data.length + SLACK) {
                throw new IllegalStateException("a " + len + "-byte buffer for a " + data.length + "-byte file");
            }
        }

        @Override
        public void close() {
        }
    }
}
