package org.sefonnx.contract;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * labels.txt: one class name per line, in class-index order, UTF-8, every line ending in '\n'; the label map of a run
 * and of an export. The reader is strict because a label map that silently loses a line shifts every class after it:
 * a blank line, a non-UTF-8 byte or a missing file is an error naming the file and the line.
 */
public final class LabelFile {
    public static final String FILE_NAME = "labels.txt";

    private LabelFile() {}

    /** Writes {@code classNames} atomically ({@link AtomicFiles}); a name the reader would refuse is refused here. */
    public static void write(Path file, List<String> classNames) throws IOException {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < classNames.size(); i++) {
            String name = classNames.get(i);
            if (name.indexOf('\n') >= 0 || name.indexOf('\r') >= 0) {
                throw new IllegalArgumentException(
                        "class " + i + " name contains a line break; " + FILE_NAME + " holds one name per line");
            }
            if (name.isBlank()) {
                throw new IllegalArgumentException(
                        "class " + i + " has an empty name; " + FILE_NAME + " needs one name per class");
            }
            text.append(name).append('\n');
        }
        AtomicFiles.writeString(file, text.toString());
    }

    /**
     * The class names of {@code file}. Accepts what other tools write too: '\r\n' line ends, a UTF-8 byte-order mark,
     * a last line without '\n'. Refuses a missing file, bytes that are not UTF-8 and blank lines, with a
     * {@link FileFormatException} saying which.
     */
    public static List<String> read(Path file) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new FileFormatException(file, "is not UTF-8 text", e);
        } catch (NoSuchFileException e) {
            throw new FileFormatException(file, "missing", e);
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\r?\n", -1)));
        if (lines.get(lines.size() - 1).isEmpty()) lines.remove(lines.size() - 1);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                throw new FileFormatException(
                        file, "line " + (i + 1) + " is empty; expected one class name per line", null);
            }
        }
        return List.copyOf(lines);
    }
}
