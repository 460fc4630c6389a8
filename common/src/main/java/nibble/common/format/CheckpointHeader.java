package nibble.common.format;

import java.util.List;
import java.util.Map;

/**
 * What the driver learns from a checkpoint's headers alone: its format, files, the byte range of every
 * tensor (in source order), and the architecture when the source states it (as Hugging Face
 * {@code config.json} keys; null when unknown).
 *
 * @param sourceMetadata what else the source says that later stages need (GGUF: the {@code tokenizer}
 *     object and the other metadata), recorded in the manifest's {@code source}; empty for most formats
 */
public record CheckpointHeader(String format, List<String> files, List<SourceTensor> tensors,
                               Map<String, Object> architecture, Map<String, Object> sourceMetadata) {

    public CheckpointHeader(String format, List<String> files, List<SourceTensor> tensors,
                            Map<String, Object> architecture) {
        this(format, files, tensors, architecture, Map.of());
    }
}
