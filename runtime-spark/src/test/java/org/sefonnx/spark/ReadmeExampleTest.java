package org.sefonnx.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Batch inference on Spark" Java example, line for line, on the test export. */
class ReadmeExampleTest {

    @Test
    void readmeExampleWritesParquetAndPrintsTheFailures(@TempDir Path dir) throws IOException {
        SparkSession spark = TestSpark.session();
        Path exportDir = TestExport.shared();
        List<Path> files = TestImages.write(dir.resolve("photos"), 18, 21L);
        TestImages.truncated(files.get(0), dir.resolve("photos/cut.jpg"));
        String photos = dir.resolve("photos") + "/*.jpg";
        String predictionsParquet = dir.resolve("predictions.parquet").toString();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

        // ---- README (paths as variables) ----
        try (SparkClassifier classifier = SparkClassifier.open(
                spark, exportDir, SparkClassifier.Options.defaults().withTopK(3))) {
            classifier
                    .transform(ImageFiles.read(spark, photos))
                    .drop("content")
                    .write()
                    .parquet(predictionsParquet);
            out.println(classifier.failures() + " of " + classifier.images() + " images failed");
        }
        // ---- end of README ----

        // 18 pictures cycle through six formats: 9 JPEGs, plus the truncated one
        assertEquals("1 of 10 images failed\n", printed.toString(StandardCharsets.UTF_8));
        assertEquals(
                9,
                spark.read()
                        .parquet(predictionsParquet)
                        .filter("error IS NULL AND size(top_k) = 3")
                        .count());
    }
}
