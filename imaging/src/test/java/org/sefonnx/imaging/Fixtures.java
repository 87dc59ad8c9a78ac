package org.sefonnx.imaging;

import java.net.URISyntaxException;
import java.nio.file.Path;

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
}
