package org.sefonnx.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.infer.Prediction;
import org.sefonnx.infer.SefClassifier;

/** Spark applies the export's EXIF rule to every column of a row, the logits included, as SefClassifier does. */
class ExifOrientationTest {
    private static final int[] ORIENTATIONS = {3, 6, 8};

    @Test
    void labelProbabilityAndLogitsOfExifRotatedJpegsEqualSefClassifiersWithAnApplyExport(
            @TempDir Path work, @TempDir Path exportDir) throws IOException {
        Path export = TestExport.exifApplied(exportDir);
        // a colour JPEG of 24..143 x 24..123 pixels (TestImages' first kind), non-square, with an off-centre disc
        Path stored = TestImages.write(work.resolve("stored"), 1, 21L).get(0);
        Path images = Files.createDirectories(work.resolve("images"));
        Files.copy(stored, images.resolve("exif-1.jpg"));
        for (int orientation : ORIENTATIONS)
            TestImages.withExifOrientation(stored, orientation, images.resolve("exif-" + orientation + ".jpg"));

        Map<Path, Row> byFile = new HashMap<>();
        try (SparkClassifier classifier = SparkClassifier.open(
                TestSpark.session(),
                export,
                SparkClassifier.Options.defaults().withLogits(true).withBatchSize(3))) {
            for (Row row : classifier
                    .transform(ImageFiles.read(TestSpark.session(), images + "/*.jpg"))
                    .drop(SparkClassifier.CONTENT)
                    .collectAsList()) {
                byFile.put(Path.of(URI.create(row.getAs(SparkClassifier.PATH))), row);
            }
        }
        assertEquals(1 + ORIENTATIONS.length, byFile.size());
        try (SefClassifier applying = SefClassifier.open(export);
                SefClassifier ignoring = SefClassifier.open(TestExport.shared())) {
            for (int orientation : ORIENTATIONS) {
                Path file = images.resolve("exif-" + orientation + ".jpg");
                Row row = byFile.get(file);
                assertNull(row.getAs(SparkClassifier.ERROR), file.toString());
                List<Prediction> expected = applying.predict(file);
                float[] logits = applying.logits(file);
                // the test has teeth: the upright picture scores otherwise than the stored one
                assertFalse(Arrays.equals(logits, ignoring.logits(file)), "orientation " + orientation);
                assertEquals(expected.get(0).label(), row.getAs(SparkClassifier.LABEL), "orientation " + orientation);
                assertEquals(
                        Float.floatToIntBits(expected.get(0).probability()),
                        Float.floatToIntBits(row.<Float>getAs(SparkClassifier.PROBABILITY)),
                        "orientation " + orientation);
                assertArrayEquals(
                        logits,
                        floats(row.getList(row.fieldIndex(SparkClassifier.LOGITS))),
                        "orientation " + orientation);
            }
        }
    }

    private static float[] floats(List<Float> values) {
        float[] array = new float[values.size()];
        for (int i = 0; i < array.length; i++) array[i] = values.get(i);
        return array;
    }
}
