package org.sefonnx.validation;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.sefonnx.generator.artifacts.GradientCheckGraph;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * The training artifacts' optimizer and BatchNorm statistics against Java references over several steps: PyTorch's
 * SGD(momentum=0.9, dampening=0, nesterov=False) — m = μ·m + (g + wd·w), w −= lr·m — and torch.nn.BatchNorm2d's
 * running statistics (r = 0.9·r + 0.1·batch statistic, unbiased variance), computed in Java from the conv output
 * that feeds the BN. Each step's gradient comes from the gradient-check graph at the session's current weights: a
 * randomly initialised SEF net amplifies float32 rounding (1e-7 in the weights becomes 1e-5 in the next gradient),
 * so a reference that evolved its own weights would measure that chaos, not the optimizer. The momentum buffers and
 * running statistics of the reference still evolve on their own from step 0.
 */
class MomentumSgdAndBatchNormStatsTest {
    static final int STEPS = 6, BATCH = 4, CLASSES = 5, SIZE = 32;
    static final float LR = 0.01f;
    static final double TOLERANCE = 1e-5;
    /** Two BatchNorms checked: the first, and the last one of the backbone (1x1 maps: 4 values per channel). */
    static final String[][] BATCH_NORMS = {{"bn1", "conv1.out"}, {"layer4.1.bn2", "layer4.1.conv2.out"}};

    @TempDir
    Path dir;

    @ParameterizedTest(name = "weight decay {0}")
    @CsvSource({"0", "0.001"})
    void sixStepsMatchPyTorchSgdAndRunningStatistics(double weightDecay) throws Exception {
        ModelSpec spec = ModelSpec.of("optim-check", 18, CLASSES, 2, SIZE)
                .withOptimizer(ModelSpec.Optimizer.SGD_MOMENTUM, 0.9, weightDecay);
        long seed = 3;
        List<String> convOutputs = new ArrayList<>();
        for (String[] bn : BATCH_NORMS) convOutputs.add(bn[1]);
        try (OrtAdapter.Training t = Ort.open(spec, dir.resolve("artifacts"), seed);
                GradientGraphSession g = new GradientGraphSession(spec, dir, convOutputs)) {
            t.setLearningRate(LR);
            Map<String, float[]> init = g.initialWeights(seed);
            Map<String, double[]> w = new HashMap<>(), m = new HashMap<>(), stats = new HashMap<>();
            for (CheckpointTensor p : g.built.parameters()) {
                w.put(p.name(), toDouble(init.get(p.name())));
                m.put(p.name(), new double[init.get(p.name()).length]);
            }
            for (String[] bn : BATCH_NORMS) {
                stats.put(bn[0] + ".running_mean", toDouble(init.get(bn[0] + ".running_mean")));
                stats.put(bn[0] + ".running_var", toDouble(init.get(bn[0] + ".running_var")));
            }
            double worstWeight = 0, worstMomentum = 0, worstStat = 0;
            for (int step = 0; step < STEPS; step++) {
                HostTensor x = Ort.images(BATCH, SIZE, 100 + step);
                HostTensor y = Ort.labels(BATCH, CLASSES);
                // reference gradients at the session's weights (running statistics are not read in training mode)
                Map<String, float[]> feed = new HashMap<>(init);
                for (CheckpointTensor p : g.built.parameters()) {
                    float[] current = t.tensor(p.name()).toFloats();
                    feed.put(p.name(), current);
                    w.put(p.name(), toDouble(current));
                }
                List<String> outs = new ArrayList<>(g.gradientOutputs());
                for (String c : convOutputs) outs.add("out." + c);
                Map<String, HostTensor> o = g.run(feed, x, y, outs);
                for (CheckpointTensor p : g.built.parameters()) {
                    float[] grad =
                            o.get(p.name() + GradientCheckGraph.GRAD_SUFFIX).toFloats();
                    double[] wp = w.get(p.name()), mp = m.get(p.name());
                    for (int i = 0; i < wp.length; i++) {
                        mp[i] = 0.9 * mp[i] + grad[i] + weightDecay * wp[i];
                        wp[i] -= LR * mp[i];
                    }
                }
                for (String[] bn : BATCH_NORMS) updateRunningStats(o.get("out." + bn[1]), stats, bn[0]);

                t.trainStep(List.of(x, y));
                t.optimizerStep();
                t.lazyResetGrad();

                for (CheckpointTensor p : g.built.parameters()) {
                    worstWeight =
                            Math.max(worstWeight, maxAbsDiff(t.tensor(p.name()).toFloats(), w.get(p.name())));
                    worstMomentum = Math.max(
                            worstMomentum,
                            maxAbsDiff(
                                    t.tensor(p.name() + CheckpointTensor.MOMENTUM_SUFFIX)
                                            .toFloats(),
                                    m.get(p.name())));
                }
                for (var e : stats.entrySet())
                    worstStat =
                            Math.max(worstStat, maxAbsDiff(t.tensor(e.getKey()).toFloats(), e.getValue()));
            }
            System.out.printf(
                    "[momentum sgd] wd=%s, %d steps: max |w - ref| %.2e, max |m - ref| %.2e, max |running stat - ref| %.2e%n",
                    weightDecay, STEPS, worstWeight, worstMomentum, worstStat);
            assertTrue(worstWeight < TOLERANCE, "weights drift from PyTorch SGD: " + worstWeight);
            assertTrue(worstMomentum < TOLERANCE, "momentum buffers drift from PyTorch SGD: " + worstMomentum);
            assertTrue(worstStat < TOLERANCE, "BatchNorm running statistics drift from PyTorch: " + worstStat);
        }
    }

    /** torch.nn.BatchNorm2d in training mode: momentum 0.1, unbiased variance for running_var. */
    static void updateRunningStats(HostTensor convOut, Map<String, double[]> stats, String bn) {
        long[] s = convOut.shape();
        int n = (int) s[0], c = (int) s[1], hw = (int) (s[2] * s[3]);
        float[] v = convOut.toFloats();
        double[] rm = stats.get(bn + ".running_mean"), rv = stats.get(bn + ".running_var");
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int b = 0; b < n; b++) for (int p = 0; p < hw; p++) sum += v[(b * c + ch) * hw + p];
            double mean = sum / (n * hw), sq = 0;
            for (int b = 0; b < n; b++)
                for (int p = 0; p < hw; p++) {
                    double d = v[(b * c + ch) * hw + p] - mean;
                    sq += d * d;
                }
            rm[ch] = 0.9 * rm[ch] + 0.1 * mean;
            rv[ch] = 0.9 * rv[ch] + 0.1 * sq / (n * hw - 1);
        }
    }

    static double maxAbsDiff(float[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < d.length; i++) d[i] = f[i];
        return d;
    }
}
