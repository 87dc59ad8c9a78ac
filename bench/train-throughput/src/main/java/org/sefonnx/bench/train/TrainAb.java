package org.sefonnx.bench.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.sefonnx.bench.common.Args;
import org.sefonnx.bench.common.Machine;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.OrtAdapter;

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
public final class TrainAb {
    private TrainAb() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        ModelSpec spec = switch (a.getOrDefault("config", "64")) {
            case "32" -> TrainThroughput.R18_32;
            case "48" -> org.sefonnx.generator.ShippedSpecs.demo();
            case "64" -> TrainThroughput.R18_64;
            default -> throw new IllegalArgumentException("--config: expected 32, 48 or 64, got " + a.get("config"));
        };
        if (a.containsKey("generate")) {
            Path dir = Path.of(a.get("generate"));
            Files.createDirectories(dir);
            ArtifactWriter.generate(spec, dir, 1L);
            System.out.println("wrote the artifacts of " + spec.id() + " into " + dir);
            return;
        }
        List<Path> dirs = Arrays.stream(a.getOrDefault("dirs", "").split(","))
                .filter(s -> !s.isBlank())
                .map(Path::of)
                .toList();
        if (dirs.size() < 2)
            throw new IllegalArgumentException("--dirs: expected two or more artifact folders, got " + dirs);
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "4")),
                steps = Integer.parseInt(a.getOrDefault("steps", "10"));
        int threads = Integer.parseInt(a.getOrDefault("threads", "2")),
                warmup = Integer.parseInt(a.getOrDefault("warmup", "3"));
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
        TrainThroughput.Config config = new TrainThroughput.Config(spec.id(), spec, steps);
        double[] best = new double[dirs.size()];
        for (int round = 1; round <= rounds; round++) {
            for (int d = 0; d < dirs.size(); d++) {
                TrainThroughput.Cell cell = TrainThroughput.sef(
                        ort, config, dirs.get(d), threads, TrainingTarget.CPU, batch, images, labels, warmup);
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
    }
}
