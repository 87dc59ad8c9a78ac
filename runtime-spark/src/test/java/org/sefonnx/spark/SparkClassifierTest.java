package org.sefonnx.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.infer.Prediction;
import org.sefonnx.infer.SefClassifier;

class SparkClassifierTest {
    private static final int IMAGES = 60;
    private static final int TOP_K = 3;
    /** Smaller than a partition's images, so that the corrupt file has batch-mates. */
    private static final int BATCH = 8;

    @TempDir
    static Path folder;

    private static List<Path> files;
    private static Path corrupt;

    @BeforeAll
    static void writeImages() throws IOException {
        files = TestImages.write(folder, IMAGES, 14L);
        corrupt = TestImages.truncated(files.get(0), folder.resolve("img-9999-corrupt.jpg"));
    }

    private static Dataset<Row> binaryFiles() {
        return ImageFiles.read(TestSpark.session(), folder + "/*");
    }

    private static Path local(String sparkPath) {
        return Path.of(URI.create(sparkPath));
    }

    /** The reference: one single-threaded classifier in this process, one image per call. */
    private static SefClassifier reference() throws IOException {
        return SefClassifier.open(
                TestExport.shared(),
                SefClassifier.Options.defaults().withIntraOpThreads(1).withTopK(TOP_K));
    }

    @Test
    void fixturesCoverColourGrayCmykAndPngPictures() throws IOException {
        Map<String, Long> kinds = files.stream()
                .collect(Collectors.groupingBy(f -> f.getFileName().toString().split("-")[2], Collectors.counting()));
        assertEquals(
                Map.of(
                        "rgb_jpeg.jpg",
                        10L,
                        "gray_jpeg.jpg",
                        10L,
                        "cmyk_jpeg.jpg",
                        10L,
                        "rgb_png.png",
                        10L,
                        "rgba_png.png",
                        10L,
                        "gray_png.png",
                        10L),
                kinds);
        for (Path file : files) {
            String name = file.getFileName().toString();
            int expectedBands = name.contains("cmyk") ? 4 : name.contains("gray") ? 1 : name.contains("rgba") ? 4 : 3;
            try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
                ImageReader reader = ImageIO.getImageReaders(in).next();
                reader.setInput(in);
                assertEquals(expectedBands, reader.getRawImageType(0).getNumBands(), name);
                reader.dispose();
            }
        }
    }

    @Test
    void sparkPredictionsEqualTheSingleProcessClassifierBitForBit() throws IOException {
        Dataset<Row> input = binaryFiles();
        assertTrue(input.rdd().getNumPartitions() > TestSpark.CORES, input.rdd().getNumPartitions() + " partitions");
        assertAllAgreeWithTheReference(input, BATCH);
    }

    @Test
    void aCorruptImageDoesNotCostItsBatchMatesTheirPredictions() throws IOException {
        // one partition, one batch: the corrupt file shares its predictBatch call with all the good ones
        Dataset<Row> input = binaryFiles().coalesce(1);
        assertEquals(1, input.rdd().getNumPartitions());
        assertAllAgreeWithTheReference(input, 2 * IMAGES);
    }

    /** Classifies {@code input} (every fixture) with logits and checks each row against {@link #reference()}. */
    private static void assertAllAgreeWithTheReference(Dataset<Row> input, int batch) throws IOException {
        SparkClassifier.Options options = SparkClassifier.Options.defaults()
                .withTopK(TOP_K)
                .withBatchSize(batch)
                .withLogits(true);
        List<Row> rows;
        try (SparkClassifier classifier = SparkClassifier.open(TestSpark.session(), TestExport.shared(), options)) {
            rows = classifier.transform(input).drop(SparkClassifier.CONTENT).collectAsList();
            assertEquals(IMAGES + 1, classifier.images());
            assertEquals(1, classifier.failures());
        }
        assertEquals(IMAGES + 1, rows.size());
        int compared = 0;
        try (SefClassifier reference = reference()) {
            for (Row row : rows) {
                Path file = local(row.getAs(SparkClassifier.PATH));
                if (file.equals(corrupt)) {
                    assertNull(row.getAs(SparkClassifier.LABEL));
                    assertNull(row.getAs(SparkClassifier.PROBABILITY));
                    assertNull(row.getAs(SparkClassifier.TOP_K));
                    assertNull(row.getAs(SparkClassifier.LOGITS));
                    String error = row.getAs(SparkClassifier.ERROR);
                    assertTrue(error.startsWith(row.getAs(SparkClassifier.PATH) + ": image is truncated"), error);
                    continue;
                }
                assertNull(row.getAs(SparkClassifier.ERROR), file.toString());
                assertSamePredictions(reference.predict(file), row, file.toString());
                assertArrayEquals(
                        reference.logits(file),
                        floats(row.getList(row.fieldIndex(SparkClassifier.LOGITS))),
                        file.toString());
                compared++;
            }
        }
        assertEquals(IMAGES, compared);
    }

    private static void assertSamePredictions(List<Prediction> expected, Row row, String what) {
        assertEquals(expected.get(0).label(), row.getAs(SparkClassifier.LABEL), what);
        assertEquals(
                Float.floatToIntBits(expected.get(0).probability()),
                Float.floatToIntBits(row.<Float>getAs(SparkClassifier.PROBABILITY)),
                what);
        List<Row> topK = row.getList(row.fieldIndex(SparkClassifier.TOP_K));
        assertEquals(TOP_K, topK.size(), what);
        for (int k = 0; k < TOP_K; k++) {
            assertEquals(expected.get(k).label(), topK.get(k).getString(0), what + " rank " + k);
            assertEquals(
                    Float.floatToIntBits(expected.get(k).probability()),
                    Float.floatToIntBits(topK.get(k).getFloat(1)),
                    what + " rank " + k);
        }
    }

    private static float[] floats(List<Float> values) {
        float[] array = new float[values.size()];
        for (int i = 0; i < array.length; i++) array[i] = values.get(i);
        return array;
    }

    @Test
    void aZeroByteImageIsAnErrorRowAndTheCountsAddUpToTheInput(@TempDir Path dir) throws IOException {
        List<Path> good = TestImages.write(dir, 3, 5L);
        Path empty = java.nio.file.Files.createFile(dir.resolve("img-empty.jpg"));
        Path cut = TestImages.truncated(good.get(0), dir.resolve("img-cut.jpg"));
        Map<Path, Row> byFile = new HashMap<>();
        try (SparkClassifier classifier =
                SparkClassifier.open(TestSpark.session(), TestExport.shared(), SparkClassifier.Options.defaults())) {
            for (Row row : classifier
                    .transform(ImageFiles.read(TestSpark.session(), dir + "/*"))
                    .drop(SparkClassifier.CONTENT)
                    .collectAsList()) {
                byFile.put(local(row.getAs(SparkClassifier.PATH)), row);
            }
            assertEquals(5, byFile.size(), byFile.keySet().toString());
            assertEquals(5, classifier.images());
            assertEquals(2, classifier.failures());
        }
        String error = byFile.get(empty).getAs(SparkClassifier.ERROR);
        assertNotNull(error, "the empty file has an error");
        assertTrue(error.endsWith(": file is empty"), error);
        assertNull(byFile.get(empty).getAs(SparkClassifier.LABEL));
        assertNotNull(byFile.get(cut).getAs(SparkClassifier.ERROR));
        for (Path file : good) assertNull(byFile.get(file).getAs(SparkClassifier.ERROR), file.toString());
    }

    @Test
    void nonFiniteScoresAreErrorRowsNeverPredictions(@TempDir Path exportDir) throws IOException {
        Path export = TestExport.withNanWeight(exportDir);
        try (SparkClassifier classifier = SparkClassifier.open(
                TestSpark.session(), export, SparkClassifier.Options.defaults().withLogits(true))) {
            List<Row> rows = classifier
                    .transform(binaryFiles())
                    .drop(SparkClassifier.CONTENT)
                    .collectAsList();
            assertEquals(IMAGES + 1, rows.size());
            assertEquals(IMAGES + 1, classifier.failures());
            for (Row row : rows) {
                assertNull(row.getAs(SparkClassifier.LOGITS));
                String error = row.getAs(SparkClassifier.ERROR);
                assertTrue(error.contains("gave non-finite logits") || error.contains("image is truncated"), error);
            }
        }
    }

    @Test
    void aPathColumnGivesTheSamePredictionsAsTheBytes() throws IOException {
        SparkSession spark = TestSpark.session();
        List<String> paths = new ArrayList<>();
        for (Path file : files.subList(0, 12)) paths.add(file.toString());
        paths.add(folder.resolve("missing.jpg").toString());
        Dataset<Row> input = spark.createDataset(paths, Encoders.STRING())
                .toDF(SparkClassifier.PATH)
                .repartition(3);
        Map<String, Row> byPath = new HashMap<>();
        try (SparkClassifier classifier = SparkClassifier.open(
                spark, TestExport.shared(), SparkClassifier.Options.defaults().withTopK(TOP_K))) {
            for (Row row : classifier.transform(input).collectAsList())
                byPath.put(row.getAs(SparkClassifier.PATH), row);
            assertEquals(13, classifier.images());
            assertEquals(1, classifier.failures());
        }
        try (SefClassifier reference = reference()) {
            for (Path file : files.subList(0, 12))
                assertSamePredictions(reference.predict(file), byPath.get(file.toString()), file.toString());
        }
        String missing = byPath.get(folder.resolve("missing.jpg").toString()).getAs(SparkClassifier.ERROR);
        assertNotNull(missing);
        assertTrue(missing.startsWith(folder.resolve("missing.jpg") + ": file does not exist"), missing);
    }

    @Test
    void oneSessionPerJvmHoweverManyPartitions(@TempDir Path exportDir) throws IOException {
        SparkSession spark = TestSpark.session();
        // a model identity no other test has opened in this JVM
        Path export = TestExport.relabelled(exportDir, "once-");
        Dataset<Row> input = binaryFiles().repartition(12);
        assertEquals(12, input.rdd().getNumPartitions());
        int before = ExecutorClassifiers.sessionsOpened();
        try (SparkClassifier first = SparkClassifier.open(
                spark, export, SparkClassifier.Options.defaults().withBatchSize(4))) {
            assertEquals(
                    IMAGES + 1,
                    first.transform(input)
                                    .filter("error IS NULL AND label LIKE 'once-%'")
                                    .count()
                            + 1);
            assertEquals(1, first.sessionsOpened());
            assertEquals(IMAGES + 1, first.images());
        }
        try (SparkClassifier second = SparkClassifier.open(spark, export, SparkClassifier.Options.defaults())) {
            assertEquals(IMAGES + 1, second.transform(input).count());
            assertEquals(0, second.sessionsOpened());
        }
        assertEquals(1, ExecutorClassifiers.sessionsOpened() - before);
    }

    @Test
    void inputsWithoutAnImageColumnOrWithAPredictionColumnAreRefusedNamingTheColumn() throws IOException {
        SparkSession spark = TestSpark.session();
        try (SparkClassifier classifier =
                SparkClassifier.open(spark, TestExport.shared(), SparkClassifier.Options.defaults())) {
            Dataset<Row> numbers = spark.range(3).toDF("id");
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> classifier.transform(numbers));
            assertTrue(
                    e.getMessage().contains("neither a binary 'content' nor a string 'path' column"), e.getMessage());
            Dataset<Row> labelled = binaryFiles().withColumnRenamed("length", "label");
            e = assertThrows(IllegalArgumentException.class, () -> classifier.transform(labelled));
            assertTrue(e.getMessage().startsWith("input already has a column 'label'"), e.getMessage());
        }
    }
}
