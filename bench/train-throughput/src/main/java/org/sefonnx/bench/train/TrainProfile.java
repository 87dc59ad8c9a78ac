package org.sefonnx.bench.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.sefonnx.bench.common.BenchCommand;
import org.sefonnx.bench.common.Machine;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Where a CPU training step's time goes: runs a few training steps of one spec with ORT's per-node profiler on and
 * prints the time per operator type (share of all node time, milliseconds per step, node count), the Memcpy nodes,
 * and the step time, so an optimisation can be aimed at what costs and checked afterwards.
 *
 * <p>Options ({@code --help}): the specs by size or id ({@code --config demo,r18-64}, the cells of
 * {@link TrainThroughput}), threads, profiled and warm-up steps, batch, the training graph (the CPU one, or the CUDA
 * one with Conv/ConvGrad), how many op types and nodes to list.
 */
@Command(
        name = "TrainProfile",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "Where a CPU training step's time goes, by ORT's per-node profiler.")
public final class TrainProfile implements Callable<Integer> {
    /** One line of ORT's Chrome-trace profile per node execution: {@code "dur" : 123, ... "name" : "x_kernel_time", "args" : {... "op_name" : "Conv"}}. */
    private static final Pattern DURATION = Pattern.compile("\"dur\"\\s*:\\s*(\\d+)");

    private static final Pattern NAME = Pattern.compile("\"name\"\\s*:\\s*\"([^\"]*)\"");
    private static final Pattern OP = Pattern.compile("\"op_name\"\\s*:\\s*\"([^\"]*)\"");
    private static final Pattern PROVIDER = Pattern.compile("\"provider\"\\s*:\\s*\"([^\"]*)\"");

    @Option(
            names = "--config",
            split = ",",
            defaultValue = "demo,r18-64",
            converter = TrainThroughput.Sizes.class,
            description =
                    "The specs by size (${COMPLETION-CANDIDATES}) or id (r18-32, demo, r18-64, r18-224, r18-448).",
            completionCandidates = TrainThroughput.Sizes.class)
    List<TrainThroughput.Size> sizes;

    @Option(names = "--threads", defaultValue = "2", description = "Intra-op threads.")
    int threads;

    @Option(names = "--steps", defaultValue = "5", description = "Profiled steps.")
    int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "Steps before the profiled ones.")
    int warmup;

    @Option(names = "--batch", defaultValue = "32", description = "Images per step.")
    int batch;

    @Option(names = "--top", defaultValue = "25", description = "Op types and slowest nodes listed.")
    int top;

    @Option(
            names = "--graph",
            defaultValue = "cpu",
            description = "The training graph: ${COMPLETION-CANDIDATES} (cuda: Conv/ConvGrad, run on the CPU here).")
    TrainingTarget graph;

    private TrainProfile() {}

    record OpTime(long micros, int executions, java.util.Set<String> nodes) {}

    public static void main(String[] args) {
        BenchCommand.run(new TrainProfile(), args);
    }

    @Override
    public Integer call() throws Exception {
        List<ModelSpec> specs = sizes.stream().map(s -> s.spec).toList();
        System.out.println(Machine.describe());
        System.out.println("ONNX Runtime " + OrtAdapter.version() + " (bytedeco), training graph "
                + graph.modelFile() + ", " + threads + " intra-op threads, batch " + batch + ", " + warmup
                + " warm-up + " + steps + " profiled steps");
        Path tmp = Files.createTempDirectory("sef-train-profile");
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx-profile")) {
            for (ModelSpec spec : specs)
                profile(ort, spec, tmp.resolve(spec.id()), threads, graph, batch, warmup, steps, top);
        } finally {
            TrainThroughput.deleteTree(tmp);
        }
        return 0;
    }

    static void profile(
            OrtAdapter ort,
            ModelSpec spec,
            Path dir,
            int threads,
            TrainingTarget graph,
            int batch,
            int warmup,
            int steps,
            int top)
            throws IOException {
        Files.createDirectories(dir);
        ArtifactWriter.generate(spec, dir, 1L);

        int size = spec.imageSize();
        Random r = new Random(42);
        float[] x = new float[batch * 3 * size * size];
        for (int j = 0; j < x.length; j++) x[j] = (float) r.nextGaussian();
        long[] y = new long[batch];
        for (int j = 0; j < batch; j++) y[j] = r.nextInt(TrainThroughput.CLASSES);
        Path prefix = dir.resolve("profile");
        OrtAdapter.SessionConfig cfg = OrtAdapter.SessionConfig.cpu(threads).withProfiling(prefix);
        double stepSeconds;
        try (OrtAdapter.Training s = ort.openTraining(
                dir.resolve(ArtifactLayout.CHECKPOINT),
                dir.resolve(graph.modelFile()),
                dir.resolve(ArtifactLayout.EVAL_MODEL),
                dir.resolve(ArtifactLayout.OPTIMIZER_MODEL),
                cfg)) {
            s.setLearningRate(TrainThroughput.LR);
            HostTensor[] in = new HostTensor[2];
            in[s.trainInputNames().indexOf(TensorNames.IMAGES)] = HostTensor.floats(x, batch, 3, size, size);
            in[s.trainInputNames().indexOf(TensorNames.LABELS)] = HostTensor.longs(y, batch);
            List<HostTensor> inputs = List.of(in);
            for (int i = 0; i < warmup; i++) step(s, inputs);
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) step(s, inputs);
            stepSeconds = (System.nanoTime() - t0) / 1e9 / steps;
        }
        // the training API's sessions write their profiles when released; the warm-up steps are in them too
        List<Path> files;
        try (Stream<Path> l = Files.list(dir)) {
            files = l.filter(p -> p.getFileName().toString().startsWith("profile")
                            && p.toString().endsWith(".json"))
                    .sorted()
                    .toList();
        }
        Map<String, OpTime> byOp = new TreeMap<>();
        Map<String, Long> byNode = new java.util.HashMap<>();
        long total = 0;
        for (Path f : files) {
            for (String line : Files.readAllLines(f)) {
                if (!line.contains("\"cat\" : \"Node\"") && !line.contains("\"cat\":\"Node\"")) continue;
                Matcher n = NAME.matcher(line);
                if (!n.find() || !n.group(1).endsWith("_kernel_time")) continue;
                Matcher d = DURATION.matcher(line), o = OP.matcher(line), p = PROVIDER.matcher(line);
                if (!d.find() || !o.find()) continue;
                String key = o.group(1)
                        + (p.find() && !p.group(1).equals("CPUExecutionProvider")
                                ? " [" + p.group(1).replace("ExecutionProvider", "") + "]"
                                : "");
                long us = Long.parseLong(d.group(1));
                total += us;
                String node = n.group(1);
                byNode.merge(
                        o.group(1) + " " + node.substring(0, node.length() - "_kernel_time".length()), us, Long::sum);
                byOp.merge(key, new OpTime(us, 1, new java.util.HashSet<>(java.util.Set.of(node))), (u, v) -> {
                    u.nodes().addAll(v.nodes());
                    return new OpTime(u.micros() + v.micros(), u.executions() + v.executions(), u.nodes());
                });
            }
        }
        int profiled = warmup + steps;
        System.out.printf(
                Locale.ROOT,
                "%n[%s: ResNet-%d, K=%d, G=%d, %d px] step %.1f ms (%.1f img/s) without the profiler's own cost; "
                        + "node time in the profile %.1f ms per step over %d steps%n",
                spec.id(),
                spec.depth(),
                spec.numClasses(),
                spec.groups(),
                size,
                stepSeconds * 1e3,
                batch / stepSeconds,
                total / 1e3 / profiled,
                profiled);
        System.out.printf(Locale.ROOT, "%-40s %7s %12s %7s%n", "op type [provider]", "share", "ms per step", "nodes");
        List<Map.Entry<String, OpTime>> rows = new ArrayList<>(byOp.entrySet());
        rows.sort(Comparator.comparingLong(
                        (Map.Entry<String, OpTime> e) -> e.getValue().micros())
                .reversed());
        long shown = 0;
        for (int i = 0; i < rows.size(); i++) {
            var e = rows.get(i);
            if (i < top) {
                System.out.printf(
                        Locale.ROOT,
                        "%-40s %6.1f%% %12.2f %7d%n",
                        e.getKey(),
                        100.0 * e.getValue().micros() / total,
                        e.getValue().micros() / 1e3 / profiled,
                        e.getValue().nodes().size());
                shown += e.getValue().micros();
            }
        }
        if (rows.size() > top) {
            System.out.printf(
                    Locale.ROOT,
                    "%-40s %6.1f%% %12.2f%n",
                    "(" + (rows.size() - top) + " other op types)",
                    100.0 * (total - shown) / total,
                    (total - shown) / 1e3 / profiled);
        }
        System.out.println("slowest nodes (ms per step):");
        byNode.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(top)
                .forEach(e ->
                        System.out.printf(Locale.ROOT, "  %8.2f  %s%n", e.getValue() / 1e3 / profiled, e.getKey()));
        long memcpy = rows.stream()
                .filter(e -> e.getKey().startsWith("Memcpy"))
                .mapToLong(e -> e.getValue().nodes().size())
                .sum();
        System.out.println("Memcpy nodes: " + memcpy);
    }

    private static void step(OrtAdapter.Training s, List<HostTensor> inputs) {
        s.trainStep(inputs);
        s.optimizerStep();
        s.lazyResetGrad();
    }
}
