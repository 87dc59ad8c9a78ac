package org.sefonnx.train.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** Paths of the committed fixtures under src/test/resources/data (made by make_fixtures.py and make_mat_fixtures.m). */
final class Fixtures {
    private Fixtures() {}

    static Path data(String relative) {
        try {
            return Path.of(Fixtures.class.getResource("/data").toURI()).resolve(relative);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A writable copy of fixture folder {@code relative}, to break on purpose. */
    static Path copy(String relative, Path into) {
        Path from = data(relative);
        try (Stream<Path> files = Files.walk(from)) {
            files.forEach(source -> {
                Path target = into.resolve(from.relativize(source).toString());
                try {
                    if (Files.isDirectory(source)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return into;
    }
}
