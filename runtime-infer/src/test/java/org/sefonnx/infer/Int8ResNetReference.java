package org.sefonnx.infer;

import java.util.HashMap;
import java.util.Map;

/**
 * What an int8 ResNet-18 computes, written from the quantization recipe (docs/int8.md), not from the QDQ graph, in
 * double precision: BatchNorm folded into each convolution (W·s, (b − μ)·s + β with s = γ / √(σ² + ε)), its weights
 * rounded per output channel to int8 steps of max|W'| / 127, its bias to int32 steps of x_scale · w_scale, and every
 * activation the int8 model carries rounded to its uint8 grid (scale and zero point given per tensor, by the folded
 * float model's names). The residual add and the max-pool work on grid values, so the max-pool needs no rounding.
 */
final class Int8ResNetReference {
    /** A uint8 grid: x ≈ (q − zeroPoint) · scale. */
    record Grid(double scale, int zeroPoint) {
        double round(double x) {
            double q = Math.max(0, Math.min(255, Math.rint(x / scale) + zeroPoint));
            return (q - zeroPoint) * scale;
        }
    }

    private final Map<String, float[]> weights;
    private final java.util.function.Function<String, Grid> grids;

    Int8ResNetReference(Map<String, float[]> weights, java.util.function.Function<String, Grid> grids) {
        this.weights = weights;
        this.grids = grids;
    }

    double[] logits(float[] chw, int size, int numClasses) {
        double[] input = new double[chw.length];
        for (int i = 0; i < chw.length; i++) input[i] = chw[i];
        ResNetReference.Map3 x = onGrid("images", new ResNetReference.Map3(3, size, size, input));
        x = onGrid("relu", ResNetReference.relu(conv("conv1", "bn1", x, scale("images"), 64, 7, 2, 3)));
        // the max-pool picks grid values: its output is on the stem's grid
        x = ResNetReference.maxPool(x);
        String xGrid = "relu";
        int inplanes = 64;
        for (int stage = 0; stage < 4; stage++) {
            int planes = 64 << stage;
            for (int b = 0; b < ResNetReference.RESNET18_BLOCKS[stage]; b++) {
                int stride = b == 0 && stage > 0 ? 2 : 1;
                String p = "layer" + (stage + 1) + "." + b;
                ResNetReference.Map3 out = onGrid(
                        p + ".relu1",
                        ResNetReference.relu(conv(p + ".conv1", p + ".bn1", x, scale(xGrid), planes, 3, stride, 1)));
                out = onGrid(p + ".bn2.out", conv(p + ".conv2", p + ".bn2", out, scale(p + ".relu1"), planes, 3, 1, 1));
                ResNetReference.Map3 identity = stride != 1 || inplanes != planes
                        ? onGrid(
                                p + ".downsample.1.out",
                                conv(p + ".downsample.0", p + ".downsample.1", x, scale(xGrid), planes, 1, stride, 0))
                        : x;
                double[] sum = new double[out.data().length];
                for (int i = 0; i < sum.length; i++) sum[i] = Math.max(0, out.data()[i] + identity.data()[i]);
                x = onGrid(p + ".relu2", new ResNetReference.Map3(out.channels(), out.height(), out.width(), sum));
                xGrid = p + ".relu2";
                inplanes = planes;
            }
        }
        return ResNetReference.classify(x, weights, numClasses);
    }

    private ResNetReference.Map3 onGrid(String tensor, ResNetReference.Map3 x) {
        Grid g = grids.apply(tensor);
        double[] out = new double[x.data().length];
        for (int i = 0; i < out.length; i++) out[i] = g.round(x.data()[i]);
        return new ResNetReference.Map3(x.channels(), x.height(), x.width(), out);
    }

    /** The folded convolution with int8 weights and an int32 bias, reading {@code x} (on the grid of scale {@code inputScale}). */
    private double scale(String tensor) {
        return grids.apply(tensor).scale();
    }

    private ResNetReference.Map3 conv(
            String conv,
            String bn,
            ResNetReference.Map3 x,
            double inputScale,
            int outChannels,
            int kernel,
            int stride,
            int pad) {
        float[] w = weights.get(conv + ".weight");
        float[] gamma = weights.get(bn + ".weight"), beta = weights.get(bn + ".bias");
        float[] mean = weights.get(bn + ".running_mean"), variance = weights.get(bn + ".running_var");
        int per = w.length / outChannels;
        float[] quantized = new float[w.length];
        double[] bias = new double[outChannels];
        for (int o = 0; o < outChannels; o++) {
            double s = gamma[o] / Math.sqrt(variance[o] + ResNetReference.BN_EPSILON);
            double max = 0;
            for (int i = o * per; i < (o + 1) * per; i++) max = Math.max(max, Math.abs(w[i] * s));
            double step = max == 0 ? 1 : max / 127;
            for (int i = o * per; i < (o + 1) * per; i++) quantized[i] = (float) (Math.rint(w[i] * s / step) * step);
            double biasStep = inputScale * step;
            bias[o] = Math.rint((beta[o] - mean[o] * s) / biasStep) * biasStep;
        }
        Map<String, float[]> one = new HashMap<>();
        one.put("w", quantized);
        ResNetReference.Map3 y = new ResNetReference(one).conv("w", x, outChannels, kernel, stride, pad);
        int area = y.height() * y.width();
        double[] out = y.data().clone();
        for (int o = 0; o < outChannels; o++) for (int i = 0; i < area; i++) out[o * area + i] += bias[o];
        return new ResNetReference.Map3(outChannels, y.height(), y.width(), out);
    }
}
