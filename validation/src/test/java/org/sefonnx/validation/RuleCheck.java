package org.sefonnx.validation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import org.sefonnx.generator.autodiff.Autodiff;
import org.sefonnx.generator.autodiff.GradientRegistry;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * Finite-difference check of one gradient rule: a graph with the op under test, loss = Σ y ⊙ R for a fixed random
 * R, the autodiff backward of it, and central differences of the loss w.r.t. every input element.
 */
final class RuleCheck {
    /** How input values are drawn: away from the kinks and poles of the op under test. */
    enum Draw {
        GAUSSIAN,
        POSITIVE,
        AWAY_FROM_ZERO,
        DISTINCT
    }

    record Input(Shape shape, Draw draw) {
        /** The fed sizes: a symbolic dimension (e.g. the batch) is fed as 3. */
        long[] concrete() {
            long[] s = shape.sizes();
            for (int i = 0; i < s.length; i++) if (s[i] < 0) s[i] = 3;
            return s;
        }

        int numel() {
            long n = 1;
            for (long d : concrete()) n *= d;
            return Math.toIntExact(n);
        }
    }

    /**
     * @param rule    the registry rule, or the composite, it covers
     * @param dtype   DOUBLE where ORT's CPU kernels (forward and backward) have a double version, else FLOAT
     * @param build   builds the op on the given inputs
     */
    record Case(
            String rule, String label, DType dtype, List<Input> inputs, BiFunction<Ops, List<Value>, Value> build) {}

    /** The outcome: worst |numeric − analytic| relative to the largest analytic gradient. */
    record Result(Case c, double maxAbsError, double maxGradient, double relativeError) {}

    private RuleCheck() {}

    static Result run(Case c, Path dir, long seed) throws IOException {
        Random r = new Random(seed);
        Graph g = new Graph("rule_" + c.label());
        Ops ops = new Ops(g);
        List<Value> xs = new ArrayList<>();
        for (int i = 0; i < c.inputs().size(); i++)
            xs.add(g.input("x" + i, c.dtype(), c.inputs().get(i).shape()));
        Value y = c.build().apply(ops, xs);
        Shape ys = y.requireShape();
        double[] weights = new double[(int) ys.numel()];
        for (int i = 0; i < weights.length; i++) weights[i] = r.nextGaussian();
        Value loss = ops.reduceSum(
                "loss", ops.mul("weighted", y, g.constant(c.dtype(), ys, weights)), Ops.allAxes(y), false);
        g.output(loss);
        Map<Value, Value> grads = new Autodiff(GradientRegistry.standard()).gradients(g, loss, xs);
        List<String> outs = new ArrayList<>(List.of(loss.name()));
        for (Value x : xs) outs.add(g.output(grads.get(x), x.name() + ".grad").name());
        Path model = dir.resolve(c.label() + ".onnx");
        Files.write(model, g.toModel("test", c.label()).toByteArray());

        List<double[]> values = new ArrayList<>();
        for (Input in : c.inputs()) values.add(draw(in, r));
        List<String> names = xs.stream().map(Value::name).toList();
        try (OrtAdapter.Inference s = Ort.ADAPTER.openInference(model, Ort.CPU)) {
            List<HostTensor> o = s.run(names, tensors(c, values), outs);
            double step = c.dtype() == DType.DOUBLE ? 1e-6 : 1e-2;
            double maxErr = 0, maxGrad = 0;
            for (int k = 0; k < xs.size(); k++) {
                double[] analytic = o.get(k + 1).toDoubles();
                double[] v = values.get(k);
                for (int i = 0; i < v.length; i++) {
                    double keep = v[i];
                    v[i] = keep + step;
                    double up = lossOf(s, names, c, values, loss.name());
                    v[i] = keep - step;
                    double down = lossOf(s, names, c, values, loss.name());
                    v[i] = keep;
                    double numeric = (up - down) / (2 * step);
                    maxErr = Math.max(maxErr, Math.abs(numeric - analytic[i]));
                    maxGrad = Math.max(maxGrad, Math.abs(analytic[i]));
                }
            }
            return new Result(c, maxErr, maxGrad, maxErr / Math.max(maxGrad, 1e-12));
        }
    }

    private static double lossOf(
            OrtAdapter.Inference s, List<String> names, Case c, List<double[]> values, String loss) {
        return s.run(names, tensors(c, values), List.of(loss)).get(0).toDoubles()[0];
    }

    private static List<HostTensor> tensors(Case c, List<double[]> values) {
        List<HostTensor> t = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            double[] v = values.get(i);
            long[] shape = c.inputs().get(i).concrete();
            if (c.dtype() == DType.FLOAT) {
                float[] f = new float[v.length];
                for (int j = 0; j < v.length; j++) f[j] = (float) v[j];
                t.add(HostTensor.floats(f, shape));
            } else {
                t.add(HostTensor.doubles(v, shape));
            }
        }
        return t;
    }

    private static double[] draw(Input in, Random r) {
        double[] v = new double[in.numel()];
        switch (in.draw()) {
            case GAUSSIAN -> {
                for (int i = 0; i < v.length; i++) v[i] = r.nextGaussian();
            }
            case POSITIVE -> {
                for (int i = 0; i < v.length; i++) v[i] = 0.5 + r.nextDouble();
            }
            case AWAY_FROM_ZERO -> {
                for (int i = 0; i < v.length; i++) v[i] = (0.2 + r.nextDouble()) * (r.nextBoolean() ? 1 : -1);
            }
            case DISTINCT -> {
                // a shuffled grid 0.1 apart: no ties for MaxPool, and a ±step probe never reorders neighbours
                List<Integer> idx = new ArrayList<>();
                for (int i = 0; i < v.length; i++) idx.add(i);
                java.util.Collections.shuffle(idx, r);
                for (int i = 0; i < v.length; i++) v[i] = 0.1 * idx.get(i) - 0.05 * v.length;
            }
        }
        return v;
    }
}
