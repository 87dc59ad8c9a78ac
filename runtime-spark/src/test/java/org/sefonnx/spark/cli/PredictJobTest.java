package org.sefonnx.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.spark.SparkTestFixtures;

class PredictJobTest {
    /** 12 pictures, a truncated JPEG and a zero-byte file. */
    private static final int IMAGES = 14;

    private static final int FAILING = 2;

    @TempDir
    static Path work;

    private static Path images;

    /** Exit code, stdout and stderr of one run. */
    private record Outcome(int exit, String out, String err) {}

    private static Outcome run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit =
                PredictJob.run(SparkTestFixtures.spark(), args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Outcome(exit, out.toString(), err.toString());
    }

    @BeforeAll
    static void writeImages() throws IOException {
        images = work.resolve("images");
        List<Path> files = SparkTestFixtures.images(images, IMAGES - FAILING, 3L);
        SparkTestFixtures.truncated(files.get(0), images.resolve("cut.jpg"));
        Files.createFile(images.resolve("empty.jpg"));
    }

    @Test
    void writesParquetThatReadsBackWithTheExpectedSchema() throws IOException {
        String output = work.resolve("predictions.parquet").toString();
        Outcome outcome = run(
                "--model",
                SparkTestFixtures.export().toString(),
                "--input",
                images + "/*",
                "--output",
                output,
                "--top-k",
                "2",
                "--batch",
                "5");
        assertEquals(0, outcome.exit(), outcome.err());
        // every file is counted, the zero-byte one included: the counts add up to the input
        assertTrue(outcome.out().startsWith("sef-onnx-spark: 14 images, 2 failed, "), outcome.out());
        assertTrue(
                outcome.out().contains(" images/s, ") && outcome.out().trim().endsWith("predictions in " + output),
                outcome.out());
        assertEquals(1, outcome.out().lines().count(), outcome.out());

        SparkSession spark = SparkTestFixtures.spark();
        Dataset<Row> predictions = spark.read().parquet(output);
        assertEquals(
                "struct<path:string,modificationTime:timestamp,length:bigint,label:string,probability:float,"
                        + "top_k:array<struct<label:string,probability:float>>,error:string>",
                predictions.schema().catalogString());
        assertEquals(IMAGES, predictions.count());
        assertEquals(
                FAILING,
                predictions
                        .filter("error IS NOT NULL AND label IS NULL AND top_k IS NULL")
                        .count());
        assertEquals(
                1, predictions.filter("error LIKE '%empty.jpg: file is empty'").count());
        assertEquals(
                IMAGES - FAILING,
                predictions
                        .filter("error IS NULL AND size(top_k) = 2 AND top_k[0].label = label "
                                + "AND top_k[0].probability = probability AND probability >= top_k[1].probability")
                        .count());

        Outcome again =
                run("--model", SparkTestFixtures.export().toString(), "--input", images + "/*", "--output", output);
        assertEquals(PredictJob.EXIT_USAGE, again.exit());
        assertEquals(
                "sef-onnx-spark: --output '" + output + "' already exists; remove it or pass --overwrite",
                again.err().trim());
        Outcome overwritten = run(
                "--model",
                SparkTestFixtures.export().toString(),
                "--input",
                images + "/*",
                "--output",
                output,
                "--overwrite",
                "--logits");
        assertEquals(0, overwritten.exit(), overwritten.err());
        assertEquals(
                IMAGES - FAILING,
                spark.read().parquet(output).filter("size(logits) = 5").count());
    }

    @Test
    void aTableOfPathsIsClassifiedAndATableWithoutImagesExitsTwo() throws IOException {
        SparkSession spark = SparkTestFixtures.spark();
        List<String> paths;
        try (var files = Files.list(images)) {
            paths = files.map(Path::toString).sorted().toList();
        }
        spark.createDataset(paths, org.apache.spark.sql.Encoders.STRING())
                .toDF("path")
                .createOrReplaceTempView("sef_photo_paths");
        String output = work.resolve("from-table.parquet").toString();
        Outcome outcome =
                run("--model", SparkTestFixtures.export().toString(), "--input", "sef_photo_paths", "--output", output);
        assertEquals(0, outcome.exit(), outcome.err());
        assertTrue(outcome.out().startsWith("sef-onnx-spark: 14 images, 2 failed, "), outcome.out());
        assertEquals(
                "struct<path:string,label:string,probability:float,top_k:array<struct<label:string,probability:float>>,error:string>",
                spark.read().parquet(output).schema().catalogString());

        spark.range(3).toDF("id").createOrReplaceTempView("sef_numbers");
        Outcome numbers = run(
                "--model",
                SparkTestFixtures.export().toString(),
                "--input",
                "sef_numbers",
                "--output",
                work.resolve("numbers.parquet").toString());
        assertEquals(PredictJob.EXIT_USAGE, numbers.exit());
        assertTrue(
                numbers.err()
                        .startsWith(
                                "sef-onnx-spark: --input 'sef_numbers': input has neither a binary 'content' nor a string 'path' column"),
                numbers.err());
    }

    @Test
    void invalidOptionsExitTwoWithOneLineSayingWhy() {
        Outcome zeroTopK = run("--model", "m", "--input", "i", "--output", "o", "--top-k", "0");
        assertEquals(PredictJob.EXIT_USAGE, zeroTopK.exit());
        assertEquals(
                "sef-onnx-spark: --top-k must be >= 1, got 0 (sef-onnx-spark --help lists the options)\n",
                zeroTopK.err());
        Outcome noModel = run("--input", "i", "--output", "o");
        assertEquals(PredictJob.EXIT_USAGE, noModel.exit());
        assertEquals(
                "sef-onnx-spark: Missing required option: '--model=EXPORT_DIR' (sef-onnx-spark --help lists the options)\n",
                noModel.err());
        Outcome badBatch = run("--model", "m", "--input", "i", "--output", "o", "--batch", "many");
        assertEquals(PredictJob.EXIT_USAGE, badBatch.exit());
        assertTrue(
                badBatch.err().startsWith("sef-onnx-spark: Invalid value for option '--batch': 'many' is not an int"),
                badBatch.err());
        assertEquals(1, badBatch.err().lines().count(), badBatch.err());
    }

    @Test
    void anInputThatIsNeitherFilesNorATableExitsTwo() throws IOException {
        Path nowhere = work.resolve("nowhere");
        Outcome outcome = run(
                "--model",
                SparkTestFixtures.export().toString(),
                "--input",
                nowhere + "/*.jpg",
                "--output",
                work.resolve("never.parquet").toString());
        assertEquals(PredictJob.EXIT_USAGE, outcome.exit());
        assertTrue(
                outcome.err()
                        .startsWith("sef-onnx-spark: --input '" + nowhere
                                + "/*.jpg' is neither a table nor files Spark can list: "),
                outcome.err());
        assertEquals(1, outcome.err().lines().count(), outcome.err());
        assertTrue(Files.notExists(work.resolve("never.parquet")));
    }

    @Test
    void anIncompleteExportExitsThreeNamingTheMissingFile(@TempDir Path export) throws IOException {
        for (String file : ExportLayout.REQUIRED_FILES)
            Files.copy(SparkTestFixtures.export().resolve(file), export.resolve(file));
        Files.delete(export.resolve("labels.txt"));
        Outcome outcome = run(
                "--model",
                export.toString(),
                "--input",
                images + "/*",
                "--output",
                work.resolve("none.parquet").toString());
        assertEquals(PredictJob.EXIT_BAD_MODEL, outcome.exit());
        assertEquals(
                "sef-onnx-spark: " + export.resolve("labels.txt")
                        + ": missing; an export directory holds model.onnx, labels.txt, " + "preprocessing.properties",
                outcome.err().trim());
    }
}
