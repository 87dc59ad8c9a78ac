package org.sefonnx.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.infer.SefClassifier;

/**
 * Adds SEF predictions to any {@code Dataset<Row>} of images on Spark: encoded bytes (Spark's {@code binaryFile}
 * source: {@code path, modificationTime, length, content}) or file paths. Every executor JVM opens one ORT session
 * for the model (cached by its SHA-256, shared by the executor's tasks) from the export files' bytes, which travel
 * in a broadcast; rows go through {@link SefClassifier#predictImages} in batches inside {@code mapPartitions}, each
 * image decoded once, by the export's EXIF rule. An image that cannot be decoded (a zero-byte file included) or that
 * the model scores NaN gives a row with only {@link #ERROR} set and is counted in {@link #failures()}; it never fails
 * the job.
 *
 * <pre>{@code
 * try (SparkClassifier classifier = SparkClassifier.open(spark, Path.of("runs/cub/export"), SparkClassifier.Options.defaults())) {
 *     classifier.transform(ImageFiles.read(spark, "photos/*.jpg")).drop("content").write().parquet("predictions.parquet");
 *     System.out.println(classifier.failures() + " images failed");
 * }
 * }</pre>
 */
public final class SparkClassifier implements AutoCloseable {
    /** The best class's name (string; null on an error row). */
    public static final String LABEL = "label";
    /** The best class's softmax probability (float, the model's own output). */
    public static final String PROBABILITY = "probability";
    /** The top-k classes, best first: array of struct {@link #LABEL}, {@link #PROBABILITY}. */
    public static final String TOP_K = "top_k";
    /** Raw scores of all K classes (array of float), only with {@link Options#logits()}; named after the model output. */
    public static final String LOGITS = TensorNames.LOGITS;
    /** Why the image has no prediction (string), null when it has one. */
    public static final String ERROR = "error";
    /** The bytes column of Spark's binaryFile source. */
    public static final String CONTENT = "content";
    /** The path column of Spark's binaryFile source. */
    public static final String PATH = "path";

    /**
     * How to classify.
     *
     * @param topK           entries of {@link #TOP_K}
     * @param batchSize      images per ORT run inside a partition
     * @param logits         whether to add {@link #LOGITS} (from the same run as the predictions)
     * @param intraOpThreads ORT threads per call; 0 = {@code spark.task.cpus}, so that the executor's concurrent tasks
     *                       together use its cores
     * @param inputColumn    the image column, binary (encoded bytes) or string (a path any executor can read, through
     *                       Hadoop's file systems); null = {@link #CONTENT} if present, else {@link #PATH}
     * @param verifyManifest check the export's files against its SHA256SUMS on the driver (true); false for an export
     *                       edited on purpose
     */
    public record Options(
            int topK, int batchSize, boolean logits, int intraOpThreads, String inputColumn, boolean verifyManifest) {
        public static final int DEFAULT_BATCH = SefClassifier.Options.DEFAULT_MAX_BATCH;

        public Options {
            if (topK < 1) throw new IllegalArgumentException("topK must be >= 1, got " + topK);
            if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
            if (intraOpThreads < 0)
                throw new IllegalArgumentException("intraOpThreads must be >= 0, got " + intraOpThreads);
        }

        /** Top 5, batches of 32, no logits, spark.task.cpus threads, column chosen from the schema, manifest checked. */
        public static Options defaults() {
            return new Options(SefClassifier.Options.DEFAULT_TOP_K, DEFAULT_BATCH, false, 0, null, true);
        }

        public Options withTopK(int k) {
            return new Options(k, batchSize, logits, intraOpThreads, inputColumn, verifyManifest);
        }

        public Options withBatchSize(int images) {
            return new Options(topK, images, logits, intraOpThreads, inputColumn, verifyManifest);
        }

        public Options withLogits(boolean withLogits) {
            return new Options(topK, batchSize, withLogits, intraOpThreads, inputColumn, verifyManifest);
        }

        public Options withIntraOpThreads(int threads) {
            return new Options(topK, batchSize, logits, threads, inputColumn, verifyManifest);
        }

        public Options withInputColumn(String column) {
            return new Options(topK, batchSize, logits, intraOpThreads, column, verifyManifest);
        }

        public Options withVerifyManifest(boolean verify) {
            return new Options(topK, batchSize, logits, intraOpThreads, inputColumn, verify);
        }
    }

    private final SparkSession spark;
    private final Options options;
    private final String sha256;
    private final int intraOpThreads;
    private final Broadcast<ExportBundle> bundle;
    private final LongAccumulator images;
    private final LongAccumulator failures;
    private final LongAccumulator sessions;

    private SparkClassifier(SparkSession spark, Options options, ExportBundle exportBundle, int intraOpThreads) {
        this.spark = spark;
        this.options = options;
        this.sha256 = exportBundle.sha256();
        this.intraOpThreads = intraOpThreads;
        this.bundle =
                spark.sparkContext().broadcast(exportBundle, scala.reflect.ClassTag$.MODULE$.apply(ExportBundle.class));
        this.images = spark.sparkContext().longAccumulator("sef images");
        this.failures = spark.sparkContext().longAccumulator("sef failed images");
        this.sessions = spark.sparkContext().longAccumulator("sef sessions opened");
    }

    /**
     * Reads and checks {@code exportDir} on the driver ({@link ExportBundle#read}: its manifest, labels and transform),
     * checks the model by opening it there (an inconsistent or damaged export fails here with an
     * {@code InvalidExportException} naming the file, not later in every task), and broadcasts its files. With a
     * {@code local} master the driver is the executor, and that session is the one the tasks use.
     */
    public static SparkClassifier open(SparkSession spark, Path exportDir, Options options) throws IOException {
        ExportBundle exportBundle = ExportBundle.read(exportDir, options.verifyManifest());
        int threads = options.intraOpThreads() > 0
                ? options.intraOpThreads()
                : Integer.parseInt(spark.sparkContext().getConf().get("spark.task.cpus", "1"));
        SparkClassifier classifier = new SparkClassifier(spark, options, exportBundle, threads);
        if (spark.sparkContext().isLocal()) {
            ExecutorClassifiers.get(
                    exportBundle.sha256(),
                    threads,
                    () -> exportBundle,
                    PartitionPredictor.scratchRoot(),
                    () -> classifier.sessions.add(1));
        } else {
            // its files were checked just now: the model's inputs and outputs are what is left to check
            SefClassifier.open(
                            exportDir,
                            SefClassifier.Options.defaults()
                                    .withIntraOpThreads(1)
                                    .withVerifyManifest(false))
                    .close();
        }
        return classifier;
    }

    /** The columns {@link #transform} adds, in order. */
    public static StructType predictionSchema(boolean withLogits) {
        StructType topK =
                new StructType().add(LABEL, DataTypes.StringType, false).add(PROBABILITY, DataTypes.FloatType, false);
        StructType added = new StructType()
                .add(LABEL, DataTypes.StringType, true)
                .add(PROBABILITY, DataTypes.FloatType, true)
                .add(TOP_K, new ArrayType(topK, false), true);
        if (withLogits) added = added.add(LOGITS, new ArrayType(DataTypes.FloatType, false), true);
        return added.add(ERROR, DataTypes.StringType, true);
    }

    /**
     * {@code input} with the prediction columns appended (lazy, like any transformation). The image column is the
     * options' or, by default, {@link #CONTENT} (binary) or else {@link #PATH} (string); a binary input's rows are
     * named in errors by their {@link #PATH} when the input has one.
     */
    public Dataset<Row> transform(Dataset<Row> input) {
        StructType schema = input.schema();
        StructType added = predictionSchema(options.logits());
        for (String name : added.fieldNames()) {
            if (Arrays.asList(schema.fieldNames()).contains(name)) {
                throw new IllegalArgumentException(
                        "input already has a column '" + name + "', which the predictions add; "
                                + "rename or drop it (columns: " + String.join(", ", schema.fieldNames()) + ")");
            }
        }
        int inputIndex = inputColumn(schema);
        boolean bytes = schema.fields()[inputIndex].dataType().equals(DataTypes.BinaryType);
        int originIndex = bytes ? stringColumn(schema, PATH) : inputIndex;
        StructType output = schema;
        for (StructField field : added.fields()) output = output.add(field);
        PartitionPredictor predictor = new PartitionPredictor(
                bundle,
                sha256,
                intraOpThreads,
                options,
                inputIndex,
                bytes,
                originIndex,
                bytes ? null : HadoopConfiguration.broadcast(spark),
                images,
                failures,
                sessions);
        return input.mapPartitions(predictor, Encoders.row(output));
    }

    private int inputColumn(StructType schema) {
        List<String> names = Arrays.asList(schema.fieldNames());
        String column = options.inputColumn();
        if (column == null) {
            if (names.contains(CONTENT) && schema.apply(CONTENT).dataType().equals(DataTypes.BinaryType))
                column = CONTENT;
            else if (names.contains(PATH) && schema.apply(PATH).dataType().equals(DataTypes.StringType)) column = PATH;
            else
                throw new IllegalArgumentException(
                        "input has neither a binary '" + CONTENT + "' nor a string '" + PATH + "' column (columns: "
                                + schema.simpleString() + "); name the image column with Options.withInputColumn");
        }
        if (!names.contains(column)) {
            throw new IllegalArgumentException(
                    "input has no column '" + column + "' (columns: " + String.join(", ", names) + ")");
        }
        DataType type = schema.apply(column).dataType();
        if (!type.equals(DataTypes.BinaryType) && !type.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("image column '" + column + "' is " + type.simpleString()
                    + ", expected binary (encoded image bytes) or string (a path)");
        }
        return schema.fieldIndex(column);
    }

    private static int stringColumn(StructType schema, String name) {
        return Arrays.asList(schema.fieldNames()).contains(name)
                        && schema.apply(name).dataType().equals(DataTypes.StringType)
                ? schema.fieldIndex(name)
                : -1;
    }

    /** SHA-256 of the export's files (see {@link ExportBundle}): the model's identity on the executors. */
    public String modelSha256() {
        return sha256;
    }

    /** ORT threads each task's calls use. */
    public int intraOpThreads() {
        return intraOpThreads;
    }

    /** Rows classified (or failed) so far by this classifier's transforms; read after an action (a recomputed partition counts again). */
    public long images() {
        return images.value();
    }

    /** Rows that got an error instead of a prediction. */
    public long failures() {
        return failures.value();
    }

    /** ORT sessions opened for this model, one per executor JVM that ran a task (with a local master: the driver's). */
    public long sessionsOpened() {
        return sessions.value();
    }

    /** Drops the broadcast of the export files from the executors; the executors' sessions stay for later jobs. */
    @Override
    public void close() {
        bundle.destroy();
    }
}
