package nibble.common.format;

import nibble.common.json.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import nibble.common.InvalidInputException;
import nibble.common.io.ByteSource;

/**
 * Finds and reads the headers of a source checkpoint, detecting its format from the file names:
 * an {@code *.safetensors.index.json} means sharded safetensors, otherwise {@code *.safetensors}
 * files are read as they are, otherwise a single {@code .gguf} is a GGUF file, otherwise a single
 * {@code .bin} is a llama2.c checkpoint. Only headers
 * are read; tensor data stays where it is.
 */
public final class CheckpointReader {

    /** Largest {@code *.safetensors.index.json} accepted. */
    public static final long MAX_INDEX_BYTES = 64L << 20;
    /** Largest {@code config.json} accepted. */
    public static final long MAX_CONFIG_BYTES = 16L << 20;

    private static final String INDEX_SUFFIX = ".safetensors.index.json";
    private static final String CONFIG = "config.json";

    private CheckpointReader() {
    }

    /** Reads a local checkpoint directory or file. */
    public static CheckpointHeader read(Path path) throws IOException {
        return read(new LocalCheckpointFiles(path));
    }

    /**
     * Detects the format and reads every header.
     *
     * @throws InvalidInputException when no checkpoint is found or any header is invalid
     */
    public static CheckpointHeader read(CheckpointFiles files) throws IOException {
        List<String> names = files.list();
        List<String> indexes = names.stream().filter(n -> n.endsWith(INDEX_SUFFIX)).toList();
        List<String> safetensors = names.stream().filter(n -> n.endsWith(".safetensors")).toList();
        List<String> bins = names.stream().filter(n -> n.endsWith(".bin")).toList();
        List<String> ggufs = names.stream().filter(n -> n.endsWith(".gguf")).toList();
        if (indexes.size() > 1) {
            throw new InvalidInputException(files.root() + ": several safetensors index files (" + String.join(", ", indexes)
                    + "); expected one");
        }
        if (indexes.size() == 1) {
            return readSharded(files, names, indexes.get(0));
        }
        if (!safetensors.isEmpty()) {
            return readSafetensors(files, names, safetensors);
        }
        if (ggufs.size() == 1) {
            try (ByteSource src = files.open(ggufs.get(0))) {
                return GgufReader.read(src, ggufs.get(0));
            }
        }
        if (ggufs.size() > 1) {
            throw new InvalidInputException(files.root() + ": several .gguf files (" + String.join(", ", ggufs)
                    + "); expected one (split GGUF files are not supported)");
        }
        if (bins.size() == 1) {
            try (ByteSource src = files.open(bins.get(0))) {
                return Llama2cReader.read(src, bins.get(0));
            }
        }
        if (bins.size() > 1) {
            throw new InvalidInputException(files.root() + ": several .bin files (" + String.join(", ", bins)
                    + "); expected one llama2.c checkpoint");
        }
        throw new InvalidInputException(files.root()
                + ": no checkpoint found (expected *.safetensors, model.safetensors.index.json, a .gguf or a llama2.c .bin)");
    }

    private static CheckpointHeader readSafetensors(CheckpointFiles files, List<String> names, List<String> shards)
            throws IOException {
        List<SourceTensor> all = new ArrayList<>();
        Map<String, String> fileOf = new HashMap<>();
        for (String shard : shards) {
            for (SourceTensor t : readOne(files, shard)) {
                String prev = fileOf.putIfAbsent(t.info().name(), shard);
                if (prev != null) {
                    throw new InvalidInputException(files.root() + ": tensor '" + t.info().name() + "' is in both "
                            + prev + " and " + shard);
                }
                all.add(t);
            }
        }
        return new CheckpointHeader("safetensors", List.copyOf(shards), List.copyOf(all), config(files, names));
    }

    private static CheckpointHeader readSharded(CheckpointFiles files, List<String> names, String index)
            throws IOException {
        Map<String, String> weightMap = weightMap(files, index);
        Set<String> listed = new HashSet<>(names);
        TreeSet<String> shards = new TreeSet<>();
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            if (!listed.contains(e.getValue())) {
                throw new InvalidInputException(index + ": weight_map puts tensor '" + e.getKey() + "' in shard '"
                        + e.getValue() + "', which is not in " + files.root());
            }
            shards.add(e.getValue());
        }
        List<SourceTensor> all = new ArrayList<>();
        Map<String, String> found = new HashMap<>();
        for (String shard : shards) {
            for (SourceTensor t : readOne(files, shard)) {
                String name = t.info().name();
                String prev = found.putIfAbsent(name, shard);
                if (prev != null) {
                    throw new InvalidInputException(files.root() + ": tensor '" + name + "' is in both " + prev
                            + " and " + shard);
                }
                String mapped = weightMap.get(name);
                if (mapped == null) {
                    throw new InvalidInputException(shard + ": tensor '" + name + "' is not in the weight_map of "
                            + index);
                }
                if (!mapped.equals(shard)) {
                    throw new InvalidInputException(shard + ": tensor '" + name + "' is here but " + index
                            + " puts it in " + mapped);
                }
                all.add(t);
            }
        }
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            if (!found.containsKey(e.getKey())) {
                throw new InvalidInputException(index + ": tensor '" + e.getKey() + "' is missing from its shard "
                        + e.getValue());
            }
        }
        return new CheckpointHeader("safetensors", List.copyOf(shards), List.copyOf(all), config(files, names));
    }

    private static Map<String, String> weightMap(CheckpointFiles files, String index) throws IOException {
        JsonNode root;
        try (ByteSource src = files.open(index)) {
            root = Json.parseObject(readBounded(src, index, MAX_INDEX_BYTES), index);
        }
        JsonNode wm = root.get("weight_map");
        if (wm == null || !wm.isObject()) {
            throw new InvalidInputException(index + ": weight_map must be an object, found " + Json.kind(wm));
        }
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isObject() && !meta.isNull()) {
            throw new InvalidInputException(index + ": metadata must be an object, found " + Json.kind(meta));
        }
        Map<String, String> out = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = wm.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new InvalidInputException(index + ": weight_map entry for tensor '" + e.getKey()
                        + "' must be a file name, found " + Json.kind(e.getValue()));
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    private static List<SourceTensor> readOne(CheckpointFiles files, String name) throws IOException {
        try (ByteSource src = files.open(name)) {
            return SafetensorsReader.read(src, name);
        }
    }

    private static Map<String, Object> config(CheckpointFiles files, List<String> names) throws IOException {
        if (!names.contains(CONFIG)) {
            return null;
        }
        try (ByteSource src = files.open(CONFIG)) {
            return Json.parseObjectToMap(readBounded(src, CONFIG, MAX_CONFIG_BYTES), CONFIG);
        }
    }

    /** Reads a whole small file, refusing one longer than {@code maxBytes} before allocating. */
    private static byte[] readBounded(ByteSource src, String fileName, long maxBytes) throws java.io.IOException {
        long length = src.length();
        if (length > maxBytes) {
            throw new InvalidInputException(fileName + ": " + length + " bytes, more than the " + maxBytes
                    + "-byte limit for this file");
        }
        return src.read(0, (int) length);
    }
}
