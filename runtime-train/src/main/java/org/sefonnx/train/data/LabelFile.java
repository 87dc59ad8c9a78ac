package org.sefonnx.train.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** labels.txt: one class name per line in class-index order, the label map shipped with a model. */
public final class LabelFile {
    private LabelFile() {
    }

    /** Writes {@code classNames} to {@code file} through a temp file and an atomic rename, so readers never see half a file. */
    public static void write(Path file, List<String> classNames) throws IOException {
        for (int i = 0; i < classNames.size(); i++) {
            String name = classNames.get(i);
            if (name.indexOf('\n') >= 0 || name.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("class " + i + " name contains a line break; labels.txt holds one name per line");
            }
        }
        Path absolute = file.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        Path temp = Files.createTempFile(absolute.getParent(), absolute.getFileName().toString(), ".tmp");
        try {
            StringBuilder text = new StringBuilder();
            for (String name : classNames) {
                text.append(name).append('\n');
            }
            Files.writeString(temp, text, StandardCharsets.UTF_8);
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Reads a labels.txt written by {@link #write}. */
    public static List<String> read(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(line -> !line.isEmpty()).toList();
    }
}
