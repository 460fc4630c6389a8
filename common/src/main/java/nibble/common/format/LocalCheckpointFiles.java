package nibble.common.format;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import nibble.common.InvalidInputException;
import nibble.common.io.ByteSource;
import nibble.common.io.FileByteSource;

/** {@link CheckpointFiles} over a local directory (its regular files, not recursive) or a single local file. */
public final class LocalCheckpointFiles implements CheckpointFiles {
    private final Path path;
    private final boolean directory;

    /** @throws InvalidInputException when the path is neither a directory nor a regular file */
    public LocalCheckpointFiles(Path path) {
        this.path = path;
        if (Files.isDirectory(path)) {
            directory = true;
        } else if (Files.isRegularFile(path)) {
            directory = false;
        } else {
            throw new InvalidInputException(path + ": no such file or directory");
        }
    }

    @Override
    public String root() {
        return path.toString();
    }

    @Override
    public List<String> list() throws IOException {
        if (!directory) {
            return List.of(path.getFileName().toString());
        }
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(path)) {
            s.filter(Files::isRegularFile).forEach(p -> names.add(p.getFileName().toString()));
        }
        names.sort(null);
        return names;
    }

    @Override
    public ByteSource open(String name) throws IOException {
        if (directory) {
            return new FileByteSource(path.resolve(name));
        }
        if (!name.equals(path.getFileName().toString())) {
            throw new NoSuchFileException(path + ": single-file checkpoint has no file '" + name + "'");
        }
        return new FileByteSource(path);
    }
}
