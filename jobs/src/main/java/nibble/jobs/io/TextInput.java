package nibble.jobs.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;
import nibble.common.InvalidInputException;

/**
 * The text behind {@code --text}: a UTF-8 text file, or Parquet (a {@code .parquet} file or a folder
 * of them) with a {@code text} string column. Parquet rows are read in (file name, row) order and
 * joined with a newline after each row that does not already end in one; null rows are skipped. The
 * driver reads it whole (it is tokenized as one stream), so it is bounded by {@link #MAX_CHARS}.
 */
public final class TextInput {
    /** The most text accepted: 256 MiB of UTF-8, or as many chars from Parquet. */
    public static final long MAX_CHARS = 256L << 20;
    public static final String COLUMN = "text";
    private static final byte[] PARQUET_MAGIC = {'P', 'A', 'R', '1'};

    private TextInput() {
    }

    /** The text at {@code uri}; bad input (missing, empty, not UTF-8, no text column, too large) names {@code uri}. */
    public static String read(String uri, Configuration conf) throws IOException {
        Path path = new Path(uri);
        FileSystem fs = path.getFileSystem(conf);
        if (!fs.exists(path)) {
            throw new InvalidInputException(Uris.redact(uri) + ": no such file or directory");
        }
        FileStatus status = fs.getFileStatus(path);
        String text;
        if (status.isDirectory()) {
            text = parquet(uri, parquetFiles(uri, fs, path), conf);
        } else if (isParquet(fs, path, status.getLen())) {
            text = parquet(uri, List.of(path), conf);
        } else {
            text = plain(uri, fs, path, status.getLen());
        }
        if (text.isEmpty()) {
            throw new InvalidInputException(Uris.redact(uri) + ": the text is empty");
        }
        return text;
    }

    private static boolean isParquet(FileSystem fs, Path path, long length) throws IOException {
        if (length < 12) {
            return false;
        }
        byte[] head = new byte[4];
        try (var in = fs.open(path)) {
            in.readFully(0, head);
        }
        return Arrays.equals(head, PARQUET_MAGIC);
    }

    private static String plain(String uri, FileSystem fs, Path path, long length) throws IOException {
        if (length > MAX_CHARS) {
            throw new InvalidInputException(Uris.redact(uri) + ": " + length + " bytes of text, more than the " + MAX_CHARS
                    + " accepted");
        }
        byte[] bytes;
        try (InputStream in = fs.open(path)) {
            bytes = in.readNBytes((int) length);
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return utf8.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(Uris.redact(uri) + ": not UTF-8 text (and not Parquet)");
        }
    }

    private static List<Path> parquetFiles(String uri, FileSystem fs, Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        for (FileStatus s : fs.listStatus(dir)) {
            String name = s.getPath().getName();
            if (s.isFile() && !name.startsWith("_") && !name.startsWith(".") && name.endsWith(".parquet")) {
                files.add(s.getPath());
            }
        }
        if (files.isEmpty()) {
            throw new InvalidInputException(Uris.redact(uri) + ": a folder without .parquet files");
        }
        files.sort((a, b) -> a.getName().compareTo(b.getName()));
        return files;
    }

    private static String parquet(String uri, List<Path> files, Configuration conf) throws IOException {
        StringBuilder out = new StringBuilder();
        for (Path file : files) {
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), file).withConf(conf).build()) {
                boolean checked = false;
                for (Group g = reader.read(); g != null; g = reader.read()) {
                    if (!checked && !(checked = isTextColumn(g.getType()))) {
                        throw noColumn(uri, g.getType());
                    }
                    if (g.getFieldRepetitionCount(COLUMN) == 0) {
                        continue;
                    }
                    String row = g.getString(COLUMN, 0);
                    if (out.length() + (long) row.length() + 1 > MAX_CHARS) {
                        throw new InvalidInputException(Uris.redact(uri) + ": more than " + MAX_CHARS + " chars of text");
                    }
                    out.append(row);
                    if (!row.endsWith("\n")) {
                        out.append('\n');
                    }
                }
            } catch (RuntimeException e) {
                if (e instanceof InvalidInputException) {
                    throw e;
                }
                throw new InvalidInputException(Uris.redact(uri) + ": cannot read " + file.getName() + " as Parquet: "
                        + e.getMessage(), e);
            }
        }
        return out.toString();
    }

    private static boolean isTextColumn(GroupType schema) {
        if (!schema.containsField(COLUMN)) {
            return false;
        }
        Type t = schema.getType(COLUMN);
        return t.isPrimitive() && !t.isRepetition(Type.Repetition.REPEATED)
                && t.asPrimitiveType().getPrimitiveTypeName() == PrimitiveType.PrimitiveTypeName.BINARY
                && t.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation;
    }

    private static InvalidInputException noColumn(String uri, GroupType schema) {
        List<String> found = new ArrayList<>();
        schema.getFields().forEach(f -> found.add(f.getName()));
        return new InvalidInputException(Uris.redact(uri) + ": no '" + COLUMN + "' column of strings (found "
                + String.join(", ", found) + ")");
    }
}
