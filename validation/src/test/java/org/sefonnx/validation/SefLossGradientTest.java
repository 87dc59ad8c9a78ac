package org.sefonnx.validation;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.sefonnx.generator.autodiff.Autodiff;
import org.sefonnx.generator.autodiff.GradientRegistry;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Value;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * Element-wise finite differences of each SEF term alone w.r.t. its inputs (feature map, global and group logits).
 * L_group runs in float64 (its kernels have double versions once ORT's fusions are off; its FusedMatMul is
 * float-only): its per-feature gradients are ~1e-5, below float32's resolution of a 0.5 loss at any usable step.
 * CE, E and S run in float32 (LogSoftmaxGrad_13 has no double kernel); they are smooth in the logits, so h = 1e-2
 * keeps truncation (~h²) and rounding (~1e-7/h) near 1e-4 of the largest gradient.
 */
class SefLossGradientTest {
    static final int BATCH = 2, CLASSES = 6, FEATURE_SAMPLES = 80;
    static final double DOUBLE_STEP = 1e-4, DOUBLE_TOLERANCE = 1e-6;
    static final double FLOAT_STEP = 1e-2, FLOAT_TOLERANCE = 2e-3;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{1} term, G={0}")
    @CsvSource({
        "2, cross_entropy",
        "2, entropy",
        "2, distillation",
        "3, distillation",
        "2, grouping",
        "3, grouping",
        "4, grouping",
        "3, grouping_paper"
    })
    void termGradientMatchesFiniteDifferences(int groups, String term) throws Exception {
        ModelSpec.GroupingLossForm form =
                term.endsWith("paper") ? ModelSpec.GroupingLossForm.PAPER : ModelSpec.GroupingLossForm.CODE;
        ModelSpec spec =
                ModelSpec.of("loss-grad", 18, CLASSES, groups, 64).withLosses(1, 0.05, 1, form); // C=512 on 2x2
        DType dtype = term.startsWith("grouping") ? DType.DOUBLE : DType.FLOAT;
        double step = dtype == DType.DOUBLE ? DOUBLE_STEP : FLOAT_STEP,
                tolerance = dtype == DType.DOUBLE ? DOUBLE_TOLERANCE : FLOAT_TOLERANCE;
        LossGraph lg = new LossGraph(spec, BATCH, dtype);
        Value value = switch (term) {
            case "cross_entropy" -> lg.terms.crossEntropy();
            case "entropy" -> lg.terms.entropy();
            case "distillation" -> lg.terms.distillation();
            default -> lg.terms.grouping();
        };
        // each term's own inputs: CE and E read the global logits, S also the group logits, L_group the features
        List<Value> wrt = new ArrayList<>();
        if (term.startsWith("grouping")) wrt.add(lg.features);
        else wrt.add(lg.global);
        if (term.equals("distillation")) wrt.addAll(lg.groups);
        Map<Value, Value> grads = new Autodiff(GradientRegistry.standard()).gradients(lg.graph, value, wrt);
        List<String> outs =
                new ArrayList<>(List.of(lg.graph.output(value, "term").name()));
        for (Value v : wrt)
            outs.add(lg.graph.output(grads.get(v), v.name() + ".grad").name());
        Path model = dir.resolve("loss_grad.onnx");
        Files.write(model, lg.graph.toModel("test", "loss gradient").toByteArray());

        Random r = new Random(31 * groups + term.hashCode());
        int side = spec.featureMapSize(), c = spec.featureChannels();
        List<double[]> values = new ArrayList<>();
        double[] feat = new double[BATCH * c * side * side];
        for (int i = 0; i < feat.length; i++) feat[i] = 0.05 + Math.abs(r.nextGaussian());
        values.add(feat);
        for (int i = 0; i <= groups; i++)
            values.add(r.doubles(BATCH * CLASSES).map(d -> 3 * d - 1.5).toArray());
        long[] labels = {2, 4};
        try (OrtAdapter.Inference s = Ort.ADAPTER.openInference(model, Ort.CPU.withoutGraphOptimizations())) {
            List<HostTensor> o = s.run(lg.inputNames(), feed(spec, dtype, values, labels), outs);
            double worst = 0;
            for (int k = 0; k < wrt.size(); k++) {
                double[] analytic = o.get(k + 1).toDoubles();
                double max = 0;
                for (double a : analytic) max = Math.max(max, Math.abs(a));
                assertTrue(max > 0, term + ": zero gradient for " + wrt.get(k).name());
                int slot = lg.inputNames().indexOf(wrt.get(k).name());
                double[] v = values.get(slot);
                int[] idx = slot == 0
                        ? r.ints(FEATURE_SAMPLES, 0, v.length).toArray()
                        : IntStream.range(0, v.length).toArray();
                for (int i : idx) {
                    double keep = v[i];
                    v[i] = keep + step;
                    double up = s.run(lg.inputNames(), feed(spec, dtype, values, labels), List.of(outs.get(0)))
                            .get(0)
                            .toDoubles()[0];
                    v[i] = keep - step;
                    double down = s.run(lg.inputNames(), feed(spec, dtype, values, labels), List.of(outs.get(0)))
                            .get(0)
                            .toDoubles()[0];
                    v[i] = keep;
                    double numeric = (up - down) / (2 * step);
                    double err = Math.abs(numeric - analytic[i]) / max;
                    worst = Math.max(worst, err);
                    assertTrue(
                            err < tolerance,
                            String.format(
                                    "%s d/d%s[%d]: analytic %.9g, numeric %.9g",
                                    term, wrt.get(k).name(), i, analytic[i], numeric));
                }
            }
            System.out.printf(
                    "[loss gradients] %s G=%d: worst error %.2e of max|grad| (%s)%n", term, groups, worst, dtype);
        }
    }

    static List<HostTensor> feed(ModelSpec spec, DType dtype, List<double[]> values, long[] labels) {
        int side = spec.featureMapSize();
        List<HostTensor> t = new ArrayList<>();
        t.add(tensor(dtype, values.get(0), BATCH, spec.featureChannels(), side, side));
        for (int i = 1; i < values.size(); i++) t.add(tensor(dtype, values.get(i), BATCH, CLASSES));
        t.add(HostTensor.longs(labels, BATCH));
        return t;
    }

    static HostTensor tensor(DType dtype, double[] v, long... shape) {
        if (dtype == DType.DOUBLE) return HostTensor.doubles(v, shape);
        float[] f = new float[v.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) v[i];
        return HostTensor.floats(f, shape);
    }
}
