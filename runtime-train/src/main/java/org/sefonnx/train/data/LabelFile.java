package org.sefonnx.train.data;

import org.sefonnx.generator.artifacts.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** labels.txt: one class name per line in class-index order, the label map shipped with a model. */
public final class LabelFile {
    private LabelFile() {
    }

    /** Writes {@code classNames} to {@code file} with the run's atomic-write helper: readers never see half a file, and the mode follows the umask. */
    public static void write(Path file, List<String> classNames) throws IOException {
        for (int i = 0; i < classNames.size(); i++) {
            String name = classNames.get(i);
            if (name.indexOf('\n') >= 0 || name.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("class " + i + " name contains a line break; labels.txt holds one name per line");
            }
        }
        StringBuilder text = new StringBuilder();
        for (String name : classNames) text.append(name).append('\n');
        AtomicFiles.writeString(file, text.toString());
    }

    /** Reads a labels.txt written by {@link #write}. */
    public static List<String> read(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(line -> !line.isEmpty()).toList();
    }
}
