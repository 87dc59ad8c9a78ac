package org.sefonnx.bench.gpu;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Value;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * Finds the op where CPU and CUDA part, from the intermediate values of one training step. The training graph
 * ({@code training_model.onnx}, fp32) is rebuilt with every float and int64 node output as an extra graph output and
 * run once as a plain session on the CPU and twice on CUDA (true float32, graph rewrites off so that every node runs
 * as written), fed the checkpoint's tensors, zero gradient buffers and one batch. For each node the worst relative L2
 * gap of its outputs is set against the worst of its inputs: a node whose outputs part by more than
 * {@link #SUSPECT_GAP} while its inputs agree ten times better, and more than ten times the CUDA-vs-CUDA gap of the
 * same output, is where the difference is made. The full per-node table goes to the report file.
 */
final class OpDiff {
    /** A step-0 intermediate value whose relative gap exceeds this is not float32 rounding in another order. */
    static final double SUSPECT_GAP = 1e-4;
    /** How much worse than its inputs (and than the noise floor) a node's outputs must be to be the origin. */
    static final double AMPLIFICATION = 10;

    private final GpuBench b;

    OpDiff(GpuBench b) {
        this.b = b;
    }

    void run(ModelSpec spec, int batch) throws IOException {
        Path artifacts = b.artifacts(spec);
        Graph g = TrainingArtifacts.trainingGraph(spec, TrainingArtifacts.Arithmetic.of(spec), TrainingTarget.CUDA);
        Set<String> already = new LinkedHashSet<>();
        for (Value v : g.outputs()) already.add(v.name());
        List<String> watched = new ArrayList<>();
        for (Node n : g.nodes())
            for (Value v : n.outputs)
                if (v != null && (v.dtype() == DType.FLOAT || v.dtype() == DType.INT64) && already.add(v.name())) {
                    g.output(v);
                    watched.add(v.name());
                }
        Path model = b.work.resolve("opdiff-" + spec.id() + ".onnx");
        Files.write(
                model,
                g.toModel("opdiff", "every intermediate value of " + spec.id()).toByteArray());

        Checkpoint ckpt = CheckpointReader.read(artifacts.resolve(ArtifactLayout.CHECKPOINT));
        HostTensor[] data = GpuBench.batches(spec, batch, 1, 13).get(0);
        // a fresh feed for every run: on the CPU, ORT's InPlaceAccumulatorV2 writes the state tensors (momentum,
        // running statistics) back into the very buffers it was fed, so a reused feed would start the next run
        // elsewhere
        OrtAdapter.SessionConfig eq = new Equivalence(b).trueFp32().withoutGraphOptimizations();
        Map<String, HostTensor> cpu = run(
                model,
                GpuBench.cpu().withoutGraphOptimizations(),
                TrainingFeed.of(g.inputs(), data, ckpt, 1f),
                watched);
        Map<String, HostTensor> dev = run(model, eq, TrainingFeed.of(g.inputs(), data, ckpt, 1f), watched);
        Map<String, HostTensor> again = run(model, eq, TrainingFeed.of(g.inputs(), data, ckpt, 1f), watched);

        Map<String, Double> gap = new HashMap<>(), floor = new HashMap<>();
        for (String name : watched) {
            gap.put(name, relativeGap(cpu.get(name), dev.get(name)));
            floor.put(name, relativeGap(dev.get(name), again.get(name)));
        }
        List<String> origins = new ArrayList<>();
        Path report = b.work.resolve("opdiff-" + spec.id() + ".txt");
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(report))) {
            w.printf(
                    Locale.ROOT,
                    "# %s, batch %d, step 0: CPU vs %s (TF32 off, cuDNN DEFAULT, graph rewrites off); gap = relative L2"
                            + " (int64: share of elements that differ)%n# node\top\tname\toutput\tinputs' worst gap\tgap\t"
                            + "repeat gap%n",
                    spec.id(),
                    batch,
                    b.device());
            int index = 0;
            for (Node n : g.nodes()) {
                double in = 0, out = 0, outFloor = 0;
                for (Value v : n.inputs)
                    if (v != null && gap.containsKey(v.name())) in = Math.max(in, gap.get(v.name()));
                for (Value v : n.outputs) {
                    if (v == null || !gap.containsKey(v.name())) continue;
                    out = Math.max(out, gap.get(v.name()));
                    outFloor = Math.max(outFloor, floor.get(v.name()));
                    w.printf(
                            Locale.ROOT,
                            "%d\t%s\t%s\t%s\t%.2e\t%.2e\t%.2e%n",
                            index,
                            n.opType,
                            n.name,
                            v.name(),
                            in,
                            gap.get(v.name()),
                            floor.get(v.name()));
                }
                if (out > SUSPECT_GAP && out > AMPLIFICATION * in && out > AMPLIFICATION * outFloor)
                    origins.add(String.format(
                            Locale.ROOT,
                            "#%d %s %s (gap %.1e, inputs %.1e, repeat %.1e)",
                            index,
                            n.opType,
                            n.name,
                            out,
                            in,
                            outFloor));
                index++;
            }
        }
        double worst =
                gap.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        b.rows.result(
                "equivalence",
                String.format(
                        Locale.ROOT,
                        "step-0 values, %s (%d values; table in %s)",
                        spec.id(),
                        watched.size(),
                        report.getFileName()),
                origins.isEmpty()
                        ? String.format(
                                Locale.ROOT,
                                "no op makes a gap over %.0e from agreeing inputs (worst value gap %.1e)",
                                SUSPECT_GAP,
                                worst)
                        : origins.size() + " op(s) where the gap starts, first: "
                                + String.join("; ", origins.subList(0, Math.min(3, origins.size()))));
    }

    private Map<String, HostTensor> run(
            Path model, OrtAdapter.SessionConfig cfg, TrainingFeed feed, List<String> outNames) {
        try (OrtAdapter.Inference s = b.ort.openInference(model, cfg)) {
            List<HostTensor> out = s.run(feed.names(), feed.values(), outNames);
            Map<String, HostTensor> m = new HashMap<>();
            for (int i = 0; i < outNames.size(); i++) m.put(outNames.get(i), out.get(i));
            return m;
        }
    }

    /** ‖a − b‖ / ‖a‖ for floats; for int64 the share of elements that differ; infinite when either is not finite. */
    static double relativeGap(HostTensor a, HostTensor c) {
        if (a.type() == DType.INT64) {
            long[] x = a.toLongs(), y = c.toLongs();
            int differ = 0;
            for (int i = 0; i < x.length; i++) if (x[i] != y[i]) differ++;
            return x.length == 0 ? 0 : differ / (double) x.length;
        }
        float[] x = a.toFloats(), y = c.toFloats();
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i]) || !Float.isFinite(y[i])) return Double.POSITIVE_INFINITY;
            double d = (double) x[i] - y[i];
            num += d * d;
            den += (double) x[i] * x[i];
        }
        if (num == 0) return 0;
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
    }
}
