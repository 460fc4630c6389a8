package nibble.common.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import nibble.common.Floats;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.format.CheckpointFiles;
import nibble.common.format.CheckpointHeader;
import nibble.common.format.CheckpointReader;
import nibble.common.format.LocalCheckpointFiles;
import nibble.common.format.SourceTensor;
import nibble.common.io.ByteSource;

/**
 * Loads a whole model from a local checkpoint (safetensors with {@code config.json}, llama2.c or GGUF) into
 * memory: for tests and the demo, on models that fit in one JVM.
 */
public final class LocalModels {
    /** Bytes read and decoded at a time. */
    private static final int CHUNK_BYTES = 1 << 24;

    private LocalModels() {
    }

    /** A checkpoint's configuration and its tensors, read on demand. */
    public record LocalCheckpoint(LlamaConfig config, TensorSource tensors) {
    }

    /** Reads the headers: the configuration and where each tensor is; no weights yet. */
    public static LocalCheckpoint open(Path checkpoint) throws IOException {
        CheckpointFiles files = new LocalCheckpointFiles(checkpoint);
        CheckpointHeader header = CheckpointReader.read(files);
        LlamaConfig config = LlamaConfig.fromArchitecture(header.architecture());
        Map<String, SourceTensor> byName = new HashMap<>();
        for (SourceTensor t : header.tensors()) {
            byName.put(t.info().name(), t);
        }
        TensorSource tensors = name -> {
            SourceTensor t = byName.get(name);
            if (t == null) {
                throw new InvalidInputException(checkpoint + ": no tensor '" + name + "'");
            }
            return read(files, t);
        };
        return new LocalCheckpoint(config, tensors);
    }

    /** Loads the configuration and every weight as dense floats. */
    public static LlamaModel load(Path checkpoint) throws IOException {
        LocalCheckpoint c = open(checkpoint);
        return new LlamaModel(c.config(), LlamaWeights.load(c.config(), c.tensors()));
    }

    private static float[] read(CheckpointFiles files, SourceTensor t) throws IOException {
        TensorInfo info = t.info();
        long n = info.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(t.file() + ": tensor '" + info.name() + "' has " + n
                    + " values, more than one Java array holds");
        }
        float[] out = new float[(int) n];
        if (t.sourceType() != null) {
            int rowBytes = (int) t.sourceRowBytes();
            int rowLength = (int) info.rowLength();
            int perRead = Math.max(1, CHUNK_BYTES / Math.max(1, rowBytes));
            try (ByteSource src = files.open(t.file())) {
                for (long row = 0; row < info.rows(); ) {
                    int count = (int) Math.min(info.rows() - row, perRead);
                    byte[] raw = src.read(t.offset() + row * rowBytes, count * rowBytes);
                    t.decodeRows(raw, count, out, (int) (row * rowLength));
                    row += count;
                }
            }
            return out;
        }
        int width = info.dtype().bytes();
        int perChunk = CHUNK_BYTES / width;
        byte[] buf = new byte[(int) Math.min(n, perChunk) * width];
        try (ByteSource src = files.open(t.file())) {
            for (int done = 0; done < n; ) {
                int count = (int) Math.min(n - done, perChunk);
                src.readFully(t.offset() + (long) done * width, buf, 0, count * width);
                Floats.decode(buf, count, info.dtype(), out, done);
                done += count;
            }
        }
        return out;
    }
}
