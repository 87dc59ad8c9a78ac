package org.sefonnx.bench.spark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sefonnx.bench.common.BenchCommand;
import org.sefonnx.bench.common.Machine;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.InferenceGraph;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.infer.Prediction;
import org.sefonnx.infer.SefClassifier;
import org.sefonnx.spark.ImageFiles;
import org.sefonnx.spark.SparkClassifier;
import org.sefonnx.spark.TestImages;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Spark's overhead on batch inference: the same generated images through {@link SparkClassifier} on Spark
 * {@code local[T]} and through a plain single-JVM {@link SefClassifier#predictBatch} loop with the same T threads,
 * rounds interleaved, medians compared. Options in {@code --help}.
 */
@Command(
        name = "SparkOverheadBenchmark",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "What Spark adds around runtime-infer: SparkClassifier next to plain threads.")
public final class SparkOverheadBenchmark implements Callable<Integer> {
    private static final com.sun.management.OperatingSystemMXBean PROCESS = (com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    @Option(names = "--images", defaultValue = "1000", description = "Generated images predicted each round.")
    int images;

    @Option(names = "--threads", defaultValue = "2", description = "Spark's local[T] and the plain loop's threads.")
    int threads;

    @Option(names = "--batch", defaultValue = "32", description = "Images per batch.")
    int batch;

    @Option(names = "--depth", defaultValue = "18", description = "ResNet depth of the built model.")
    int depth;

    @Option(names = "--size", defaultValue = "64", description = "Input side of the built model, in pixels.")
    int size;

    @Option(names = "--classes", defaultValue = "10", description = "Classes of the built model.")
    int classes;

    @Option(names = "--rounds", defaultValue = "5", description = "Interleaved rounds; medians are compared.")
    int rounds;

    @Option(
            names = "--spark-defaults",
            arity = "0..1",
            description = "Spark's own 4 MB open cost per file instead of ImageFiles.packPartitions.")
    boolean sparkDefaults;

    private SparkOverheadBenchmark() {}

    public static void main(String[] args) {
        BenchCommand.run(new SparkOverheadBenchmark(), args);
    }

    @Override
    public Integer call() throws Exception {

        System.out.println(Machine.describe() + "; load average at start " + Machine.loadAverage());
        Path work = Files.createTempDirectory("sef-spark-bench");
        Path export = buildExport(work.resolve("export"), depth, size, classes);
        List<Path> files = TestImages.write(work.resolve("images"), images, 2026L);
        long bytes = 0;
        for (Path f : files) bytes += Files.size(f);
        System.out.printf(
                Locale.ROOT,
                "model: ResNet-%d, %d px input, %d classes; %d images (%s), %.1f MB, batch %d, %d threads%n",
                depth,
                size,
                classes,
                images,
                kinds(files),
                bytes / 1e6,
                batch,
                threads);

        long sparkStart = System.nanoTime();
        SparkSession spark = SparkSession.builder()
                .master("local[" + threads + "]")
                .appName("sef-onnx spark overhead")
                .config("spark.ui.enabled", "false")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        // as the spark-submit job partitions image files, unless asked for Spark's defaults (4 MB per file opened)
        if (!sparkDefaults) ImageFiles.packPartitions(spark);
        System.out.printf(
                Locale.ROOT,
                "Spark %s local[%d] started in %.1f s (not timed below)%n",
                spark.version(),
                threads,
                (System.nanoTime() - sparkStart) / 1e9);

        // the plain loops: one caller with T ORT threads (the target's baseline), and T callers with one ORT thread
        // each, the layout Spark's T tasks have (spark.task.cpus = 1)
        try (SefClassifier oneCaller = SefClassifier.open(
                        export,
                        SefClassifier.Options.defaults()
                                .withIntraOpThreads(threads)
                                .withMaxBatch(batch));
                SefClassifier perCaller = SefClassifier.open(
                        export,
                        SefClassifier.Options.defaults().withIntraOpThreads(1).withMaxBatch(batch));
                SparkClassifier sparkClassifier = SparkClassifier.open(
                        spark, export, SparkClassifier.Options.defaults().withBatchSize(batch))) {
            ExecutorService callers = Executors.newFixedThreadPool(threads);
            String glob = work.resolve("images") + "/*";
            Dataset<Row> input = ImageFiles.read(spark, glob);
            int partitions = input.rdd().getNumPartitions();
            // binaryFile packs partitions by bytes, not by images: at a large input size every image costs the same
            List<Integer> perPartition = input.select(SparkClassifier.PATH)
                    .javaRDD()
                    .mapPartitions(rows -> {
                        int n = 0;
                        for (; rows.hasNext(); rows.next()) n++;
                        return List.of(n).iterator();
                    })
                    .collect();
            System.out.println("binaryFile input: " + partitions + " partitions of " + perPartition + " images ("
                    + ImageFiles.OPEN_COST + " " + spark.conf().get(ImageFiles.OPEN_COST) + "), one ORT session of "
                    + sparkClassifier.intraOpThreads() + " thread(s) shared by the " + threads + " tasks");
            double[] plain = new double[rounds], parallel = new double[rounds], onSpark = new double[rounds];
            double[] plainCpu = new double[rounds], parallelCpu = new double[rounds], sparkCpu = new double[rounds];
            double[] warmUpCpu = new double[1];
            for (int round = -1; round < rounds; round++) { // round -1 warms up all three
                boolean counted = round >= 0;
                int slot = Math.max(0, round);
                String load = Machine.loadAverage();
                double p = seconds(
                        () -> check(oneCaller.predictBatch(files), images),
                        counted ? plainCpu : warmUpCpu,
                        counted ? slot : 0);
                double q = seconds(
                        () -> check(predictInParallel(perCaller, files, batch, threads, callers), images),
                        counted ? parallelCpu : warmUpCpu,
                        counted ? slot : 0);
                double s = seconds(
                        () -> {
                            Dataset<Row> predictions = sparkClassifier.transform(ImageFiles.read(spark, glob));
                            predictions.write().format("noop").mode("overwrite").save();
                        },
                        counted ? sparkCpu : warmUpCpu,
                        counted ? slot : 0);
                if (counted) {
                    plain[round] = p;
                    parallel[round] = q;
                    onSpark[round] = s;
                    System.out.printf(
                            Locale.ROOT,
                            "round %d: plain 1x%d %.2f s (cpu %.2f s), plain %dx1 %.2f s (cpu %.2f s), Spark local[%d] %.2f s "
                                    + "(cpu %.2f s); load average before: %s%n",
                            round + 1,
                            threads,
                            p,
                            plainCpu[round],
                            threads,
                            q,
                            parallelCpu[round],
                            threads,
                            s,
                            sparkCpu[round],
                            load);
                }
            }
            callers.shutdown();
            if (sparkClassifier.failures() != 0 || sparkClassifier.images() != (long) images * (rounds + 1)) {
                throw new IllegalStateException("Spark classified " + sparkClassifier.images() + " images with "
                        + sparkClassifier.failures() + " failures, expected " + images * (rounds + 1) + " and 0");
            }
            double plainMedian = median(plain), parallelMedian = median(parallel), sparkMedian = median(onSpark);
            System.out.printf(
                    Locale.ROOT,
                    "median of %d rounds: plain predictBatch loop, 1 caller x %d ORT threads: %.2f s (%.0f images/s)%n",
                    rounds,
                    threads,
                    plainMedian,
                    images / plainMedian);
            System.out.printf(
                    Locale.ROOT,
                    "                     plain predictBatch loop, %d callers x 1 ORT thread: %.2f s (%.0f images/s)%n",
                    threads,
                    parallelMedian,
                    images / parallelMedian);
            System.out.printf(
                    Locale.ROOT,
                    "                     Spark local[%d], %d partitions:              %.2f s (%.0f images/s)%n",
                    threads,
                    partitions,
                    sparkMedian,
                    images / sparkMedian);
            System.out.printf(
                    Locale.ROOT,
                    "Spark overhead (wall): %.3fx the 1x%d loop's time, %.3fx the %dx1 loop's%n",
                    sparkMedian / plainMedian,
                    threads,
                    sparkMedian / parallelMedian,
                    threads);
            // CPU seconds of this process: what Spark adds in work, less distorted than wall time when other processes
            // share the cores (the 1x2 loop's CPU includes ORT's spinning pool thread, so compare with the 2x1 loop)
            System.out.printf(
                    Locale.ROOT,
                    "Spark overhead (CPU): median %.2f s vs %.2f s of the %dx1 loop: %.3fx; load average at end %s%n",
                    median(sparkCpu),
                    median(parallelCpu),
                    threads,
                    median(sparkCpu) / median(parallelCpu),
                    Machine.loadAverage());
        } finally {
            spark.stop();
        }
        return 0;
    }

    /** The files in chunks of {@code batch}, taken by {@code threads} callers of one shared classifier. */
    private static List<List<Prediction>> predictInParallel(
            SefClassifier classifier, List<Path> files, int batch, int threads, ExecutorService callers) {
        List<Future<List<List<Prediction>>>> chunks = new ArrayList<>();
        for (int from = 0; from < files.size(); from += batch) {
            List<Path> chunk = files.subList(from, Math.min(files.size(), from + batch));
            chunks.add(callers.submit(() -> classifier.predictBatch(chunk)));
        }
        List<List<Prediction>> all = new ArrayList<>(files.size());
        try {
            for (Future<List<List<Prediction>>> chunk : chunks) all.addAll(chunk.get());
        } catch (Exception e) {
            throw new IllegalStateException("a caller failed: " + e, e);
        }
        return all;
    }

    private static void check(List<List<Prediction>> predictions, int images) {
        if (predictions.size() != images)
            throw new IllegalStateException(predictions.size() + " predictions for " + images + " images");
    }

    /** An export directory of a ResNet with initial weights (speed does not depend on the values). */
    private static Path buildExport(Path dir, int depth, int size, int classes) throws IOException {
        ModelSpec spec = ModelSpec.of("bench-r" + depth + "-" + size, depth, classes, 2, size);
        Files.createDirectories(dir);
        InferenceGraph.write(
                spec,
                InferenceGraph.tensors(ArtifactWriter.initialCheckpoint(spec, 1)),
                dir.resolve(ExportLayout.MODEL));
        List<String> labels = new ArrayList<>();
        for (int k = 0; k < classes; k++) labels.add("class-" + k);
        Files.write(dir.resolve(ExportLayout.LABELS), labels, StandardCharsets.UTF_8);
        Files.writeString(
                dir.resolve(ExportLayout.PREPROCESSING),
                PreprocessingSpec.resize(size).withModel(spec.id(), classes).toText());
        return dir;
    }

    private static String kinds(List<Path> files) {
        return files.stream()
                .collect(Collectors.groupingBy(
                        f -> f.getFileName().toString().replaceAll("^img-\\d+-|\\.\\w+$", ""),
                        java.util.TreeMap::new,
                        Collectors.counting()))
                .toString();
    }

    /** Wall-clock seconds of {@code work}; adds the CPU seconds this process spent meanwhile (all threads) to {@code cpu[slot]}. */
    private static double seconds(Runnable work, double[] cpu, int slot) {
        long cpuStart = PROCESS.getProcessCpuTime();
        long start = System.nanoTime();
        work.run();
        double wall = (System.nanoTime() - start) / 1e9;
        cpu[slot] = (PROCESS.getProcessCpuTime() - cpuStart) / 1e9;
        return wall;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1
                ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }
}
