package org.sefonnx.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** The package-private fixtures of this package for the tests of other packages (cli). */
public final class SparkTestFixtures {
    private SparkTestFixtures() {}

    public static SparkSession spark() {
        return TestSpark.session();
    }

    public static Path export() throws IOException {
        return TestExport.shared();
    }

    public static List<Path> images(Path dir, int count, long seed) throws IOException {
        return TestImages.write(dir, count, seed);
    }

    public static Path truncated(Path jpeg, Path file) throws IOException {
        return TestImages.truncated(jpeg, file);
    }
}
