package org.sefonnx.train.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Shared checks for the readers: numbered index lines, files that must exist, ImageFolder class order. */
final class IndexFiles {
    private IndexFiles() {}

    /** One non-blank line of an index file with its 1-based line number. */
    record Line(Path file, int number, String text) {
        String where() {
            return "line " + number;
        }

        DatasetFormatException error(String problem) {
            return new DatasetFormatException(file, where(), problem + " (line is '" + text + "')");
        }

        /** The text split on the first run of whitespace into exactly two parts. */
        String[] keyAndRest(String expectation) {
            String trimmed = text.strip();
            int space = indexOfWhitespace(trimmed);
            if (space < 0) {
                throw error("expected " + expectation);
            }
            return new String[] {
                trimmed.substring(0, space), trimmed.substring(space + 1).strip()
            };
        }

        int parseInt(String token, String field) {
            try {
                return Integer.parseInt(token);
            } catch (NumberFormatException e) {
                throw error(field + " '" + token + "' is not an integer");
            }
        }
    }

    private static int indexOfWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    static Path requireFile(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new DatasetFormatException(file, null, what + " is missing");
        }
        return file;
    }

    static Path requireDirectory(Path dir, String what) {
        if (!Files.isDirectory(dir)) {
            throw new DatasetFormatException(dir, null, what + " is missing (not a directory)");
        }
        return dir;
    }

    static List<Line> lines(Path file) {
        requireFile(file, "index file");
        List<String> raw;
        try {
            raw = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DatasetFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
        List<Line> out = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            String text = raw.get(i);
            if (i == 0 && !text.isEmpty() && text.charAt(0) == '\uFEFF') {
                text = text.substring(1);
            }
            if (!text.isBlank()) {
                out.add(new Line(file, i + 1, text));
            }
        }
        return out;
    }

    /** Fails naming the index file and line when a listed image is not on disk. */
    static Path requireImage(Path image, Path indexFile, String where) {
        if (!Files.isRegularFile(image)) {
            throw new DatasetFormatException(indexFile, where, "lists image " + image + ", which does not exist");
        }
        return image;
    }

    /** Distinct names in ImageFolder order: String natural order, which is Python's sorted() for BMP text. */
    static List<String> sortedClassNames(Collection<String> names) {
        return List.copyOf(new TreeSet<>(names));
    }

    static Map<String, Integer> indexOf(List<String> classNames) {
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < classNames.size(); i++) {
            index.put(classNames.get(i), i);
        }
        return index;
    }
}
