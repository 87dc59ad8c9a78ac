package org.sefonnx.spark.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.infer.InvalidExportException;
import org.sefonnx.infer.SefClassifier;
import org.sefonnx.spark.ImageFiles;
import org.sefonnx.spark.SparkClassifier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The spark-submit job: {@code --model DIR --input GLOB|TABLE --output PARQUET}, predictions of every image as parquet. */
@Command(
        name = "sef-onnx-spark",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description =
                "Classifies every image of a glob (Spark's binaryFile source) or a table with an exported SEF model "
                        + "and writes the predictions as parquet (the input's columns but the image bytes, plus label, probability, "
                        + "top_k, [logits,] error).",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:every image classified or recorded as an error row",
            "2:invalid command line, input or output",
            "3:the export directory is missing, inconsistent or damaged (files that do not match its "
                    + ExportLayout.MANIFEST + ")"
        })
public final class PredictJob implements Callable<Integer> {
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_BAD_MODEL = 3;

    @Option(
            names = "--model",
            required = true,
            paramLabel = "EXPORT_DIR",
            description = "Export directory (" + ExportLayout.MODEL + ", " + ExportLayout.LABELS + ", "
                    + ExportLayout.PREPROCESSING + ") on the driver's file system.")
    Path model;

    @Option(
            names = "--input",
            required = true,
            paramLabel = "GLOB|TABLE",
            description =
                    "A table name, else files for Spark's binaryFile source (a glob or directory, any Hadoop file system).")
    String input;

    @Option(
            names = "--output",
            required = true,
            paramLabel = "PARQUET",
            description = "Where the predictions go (a parquet directory).")
    String output;

    @Option(
            names = "--top-k",
            paramLabel = "K",
            defaultValue = "" + SefClassifier.Options.DEFAULT_TOP_K,
            description = "Entries of the top_k column (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(
            names = "--batch",
            paramLabel = "N",
            defaultValue = "" + SparkClassifier.Options.DEFAULT_BATCH,
            description = "Images per ONNX Runtime run inside a partition (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(
            names = "--threads",
            paramLabel = "N",
            defaultValue = "0",
            description = "ONNX Runtime threads per task; 0 = spark.task.cpus (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--logits", description = "Also write the raw logits of every class.")
    boolean logits;

    @Option(
            names = "--no-verify-manifest",
            description = "Load the export without checking its files against " + ExportLayout.MANIFEST
                    + " (for an export edited on purpose).")
    boolean noVerifyManifest;

    @Option(names = "--overwrite", description = "Replace --output if it exists.")
    boolean overwrite;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final SparkSession spark;

    private PredictJob(SparkSession spark) {
        this.spark = spark;
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int exit;
        // the options are checked before Spark starts: a typo costs no session
        int parsed = parse(args, out, err);
        if (parsed != 0) {
            exit = parsed == -1 ? 0 : parsed;
        } else {
            SparkSession spark =
                    SparkSession.builder().appName("sef-onnx predict").getOrCreate();
            try {
                exit = run(spark, args, out, err);
            } finally {
                spark.stop();
            }
        }
        System.exit(exit);
    }

    /** Parses {@code args} only: 0 if they are valid, else the usage exit code (after printing why), -1 for --help. */
    private static int parse(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = commandLine(null, out, err);
        try {
            CommandLine.ParseResult result = cli.parseArgs(args);
            if (CommandLine.printHelpIfRequested(result)) return -1;
            ((PredictJob) cli.getCommand()).checkRanges();
            return 0;
        } catch (CommandLine.ParameterException e) {
            err.println("sef-onnx-spark: " + e.getMessage() + " (sef-onnx-spark --help lists the options)");
            return EXIT_USAGE;
        }
    }

    /** Runs the job on {@code spark} with the given streams; returns the exit code. */
    public static int run(SparkSession spark, String[] args, PrintWriter out, PrintWriter err) {
        int parsed = parse(args, out, err);
        if (parsed != 0) return parsed == -1 ? 0 : parsed;
        return commandLine(spark, out, err).execute(args);
    }

    private static CommandLine commandLine(SparkSession spark, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new PredictJob(spark));
        cli.setOut(out);
        cli.setErr(err);
        return cli;
    }

    private void checkRanges() {
        if (topK < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--top-k must be >= 1, got " + topK);
        if (batch < 1)
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch must be >= 1, got " + batch);
        if (threads < 0)
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 0, got " + threads);
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SparkClassifier.Options options = SparkClassifier.Options.defaults()
                .withTopK(topK)
                .withBatchSize(batch)
                .withLogits(logits)
                .withIntraOpThreads(threads)
                .withVerifyManifest(!noVerifyManifest);
        Dataset<Row> images;
        try {
            images = images();
        } catch (Exception e) {
            err.println("sef-onnx-spark: --input '" + input + "' is neither a table nor files Spark can list: "
                    + firstLine(e));
            return EXIT_USAGE;
        }
        long started = System.nanoTime();
        try (SparkClassifier classifier = SparkClassifier.open(spark, model, options)) {
            Dataset<Row> predictions;
            try {
                predictions = classifier.transform(images);
            } catch (IllegalArgumentException e) {
                // the input's schema has no image column, or already has a prediction column
                err.println("sef-onnx-spark: --input '" + input + "': " + e.getMessage());
                return EXIT_USAGE;
            }
            if (images.schema().getFieldIndex(SparkClassifier.CONTENT).isDefined())
                predictions = predictions.drop(SparkClassifier.CONTENT);
            try {
                predictions
                        .write()
                        .mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists)
                        .parquet(output);
            } catch (Exception e) {
                if (e.getMessage() != null && e.getMessage().contains("PATH_ALREADY_EXISTS")) {
                    err.println(
                            "sef-onnx-spark: --output '" + output + "' already exists; remove it or pass --overwrite");
                    return EXIT_USAGE;
                }
                throw e;
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            out.println(String.format(
                    Locale.ROOT,
                    "sef-onnx-spark: %d images, %d failed, %.1f s, %.1f images/s, %d new ORT session(s), model %s; predictions in %s",
                    classifier.images(),
                    classifier.failures(),
                    seconds,
                    classifier.images() / seconds,
                    classifier.sessionsOpened(),
                    classifier.modelSha256().substring(0, 12),
                    output));
            return 0;
        } catch (InvalidExportException | IOException | UncheckedIOException e) {
            // UncheckedIOException: the export could not be written to the local scratch directory and opened
            err.println("sef-onnx-spark: " + e.getMessage());
            return EXIT_BAD_MODEL;
        }
    }

    private Dataset<Row> images() {
        ImageFiles.packPartitions(spark);
        boolean table;
        try {
            table = spark.catalog().tableExists(input);
        } catch (Exception notATableName) {
            // a glob such as photos/*.jpg does not even parse as a table identifier (a ParseException, which Scala
            // throws undeclared)
            table = false;
        }
        return table ? spark.table(input) : ImageFiles.read(spark, input);
    }

    private static String firstLine(Exception e) {
        String message = String.valueOf(e.getMessage());
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
