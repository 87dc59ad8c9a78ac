package org.sefonnx.bench.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sefonnx.bench.common.BenchCommand;
import org.sefonnx.bench.common.Machine;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.OrtAdapter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A/B timing of two or more generated CPU training graphs in one JVM, rounds interleaved, so that a change to the
 * generator is judged against its own baseline under the same machine load (this 2-core VM drifts by ±15 % between
 * runs, more than most single changes are worth). Two modes:
 * <pre>
 *   --generate DIR --config 32|48|64           write the artifacts of the current generator build into DIR
 *   --dirs A,B[,C…] --config 64 [--rounds 4] [--steps 10] [--threads 2]   time the CPU training graph of each DIR
 * </pre>
 * Build variant A, generate into A; build variant B, generate into B; then time both.
 */
@Command(
        name = "TrainAb",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "A/B timing of generated CPU training graphs, rounds interleaved in one JVM.")
public final class TrainAb implements Callable<Integer> {
    @Option(
            names = "--config",
            defaultValue = "64",
            converter = TrainThroughput.Sizes.class,
            completionCandidates = TrainThroughput.Sizes.class,
            description = "The spec, by input size: ${COMPLETION-CANDIDATES}.")
    TrainThroughput.Size size;

    @Option(names = "--generate", description = "Write the artifacts of the current generator build into this folder.")
    Path generate;

    @Option(names = "--dirs", split = ",", description = "Two or more artifact folders whose CPU graphs are timed.")
    List<Path> dirs = List.of();

    @Option(names = "--rounds", defaultValue = "4", description = "Interleaved rounds; the best is kept.")
    int rounds;

    @Option(names = "--steps", defaultValue = "10", description = "Timed steps a cell.")
    int steps;

    @Option(names = "--threads", defaultValue = "2", description = "Intra-op threads.")
    int threads;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed steps before each cell.")
    int warmup;

    private TrainAb() {}

    public static void main(String[] args) {
        BenchCommand.run(new TrainAb(), args);
    }

    @Override
    public Integer call() throws Exception {
        ModelSpec spec = size.spec;
        if (generate != null) {
            Files.createDirectories(generate);
            ArtifactWriter.generate(spec, generate, 1L);
            System.out.println("wrote the artifacts of " + spec.id() + " into " + generate);
            return 0;
        }
        if (dirs.size() < 2)
            throw new IllegalArgumentException("--dirs: expected two or more artifact folders, got " + dirs);
        int batch = spec.batchSize();
        List<float[]> images = new ArrayList<>();
        List<long[]> labels = new ArrayList<>();
        TrainThroughput.fixedBatches(batch, spec.imageSize(), images, labels);
        System.out.println(Machine.describe());
        System.out.printf(
                Locale.ROOT,
                "%s, batch %d, %d threads, %d steps a cell, best of %d interleaved rounds%n",
                spec.id(),
                batch,
                threads,
                steps,
                rounds);
        OrtAdapter ort = OrtAdapter.create("sef-onnx-ab");
        TrainThroughput.Config config = new TrainThroughput.Config(spec.id(), spec, steps, warmup);
        double[] best = new double[dirs.size()];
        for (int round = 1; round <= rounds; round++) {
            for (int d = 0; d < dirs.size(); d++) {
                TrainThroughput.Cell cell = TrainThroughput.sef(
                        ort, config, dirs.get(d), threads, TrainingTarget.CPU, batch, images, labels);
                best[d] = Math.max(best[d], cell.imagesPerSecond());
                System.out.printf(
                        Locale.ROOT,
                        "  round %d  %-40s %7.1f img/s (median step %.1f ms), loss %.4f -> %.4f%n",
                        round,
                        dirs.get(d),
                        cell.imagesPerSecond(),
                        1000 * cell.medianStepSeconds(),
                        cell.firstLoss(),
                        cell.lastLoss());
            }
        }
        for (int d = 0; d < dirs.size(); d++) {
            System.out.printf(
                    Locale.ROOT,
                    "%-40s best %7.1f img/s  (%.3fx the first)%n",
                    dirs.get(d),
                    best[d],
                    best[d] / best[0]);
        }
        return 0;
    }
}
