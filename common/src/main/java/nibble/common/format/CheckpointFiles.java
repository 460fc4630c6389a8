package nibble.common.format;

import java.io.IOException;
import java.util.List;
import nibble.common.io.ByteSource;

/** The files of a checkpoint (a directory or a single file), as the readers see them. */
public interface CheckpointFiles {
    /** Display name of the checkpoint. */
    String root();

    /** File names relative to the root, sorted; a single-file checkpoint lists that one file. */
    List<String> list() throws IOException;

    /** Opens a file by its name relative to the root. */
    ByteSource open(String name) throws IOException;
}
