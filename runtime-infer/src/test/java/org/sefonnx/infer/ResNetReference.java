package org.sefonnx.infer;

import java.util.Map;

/**
 * An independent plain-Java forward of the exported graph for BasicBlock ResNets (18/34) in double precision,
 * written from torchvision's models/resnet.py, not from our ONNX graph: conv (no bias), BatchNorm in eval mode
 * ((x - running_mean) / sqrt(running_var + eps) * weight + bias), ReLU, 3x3/2 max-pool with padding 1, the four
 * stages, global average pool and the fc layer. Weights come by their torchvision state_dict names.
 */
final class ResNetReference {
    /** torch.nn.BatchNorm2d's default eps. */
    static final double BN_EPSILON = 1e-5;

    static final int[] RESNET18_BLOCKS = {2, 2, 2, 2};

    private final Map<String, float[]> weights;

    ResNetReference(Map<String, float[]> weights) {
        this.weights = weights;
    }

    /** A [C][H][W] feature map. */
    record Map3(int channels, int height, int width, double[] data) {
        double get(int c, int y, int x) {
            return data[(c * height + y) * width + x];
        }
    }

    /** Logits [K] of one image given as 3 x size x size normalised floats. */
    double[] logits(float[] chw, int size, int numClasses) {
        double[] input = new double[chw.length];
        for (int i = 0; i < chw.length; i++) input[i] = chw[i];
        Map3 x = new Map3(3, size, size, input);
        x = relu(batchNorm("bn1", conv("conv1.weight", x, 64, 7, 2, 3)));
        x = maxPool(x);
        int inplanes = 64;
        for (int stage = 0; stage < 4; stage++) {
            int planes = 64 << stage;
            for (int b = 0; b < RESNET18_BLOCKS[stage]; b++) {
                int stride = b == 0 && stage > 0 ? 2 : 1;
                String p = "layer" + (stage + 1) + "." + b;
                Map3 out = relu(batchNorm(p + ".bn1", conv(p + ".conv1.weight", x, planes, 3, stride, 1)));
                out = batchNorm(p + ".bn2", conv(p + ".conv2.weight", out, planes, 3, 1, 1));
                Map3 identity = stride != 1 || inplanes != planes
                        ? batchNorm(p + ".downsample.1", conv(p + ".downsample.0.weight", x, planes, 1, stride, 0))
                        : x;
                double[] sum = new double[out.data().length];
                for (int i = 0; i < sum.length; i++) sum[i] = Math.max(0, out.data()[i] + identity.data()[i]);
                x = new Map3(out.channels(), out.height(), out.width(), sum);
                inplanes = planes;
            }
        }
        return classify(x, weights, numClasses);
    }

    /** The head: global average pool of the last map {@code x}, then the fc layer of {@code weights}. */
    static double[] classify(Map3 x, Map<String, float[]> weights, int numClasses) {
        double[] pooled = new double[x.channels()];
        int area = x.height() * x.width();
        for (int c = 0; c < x.channels(); c++) {
            double s = 0;
            for (int i = 0; i < area; i++) s += x.data()[c * area + i];
            pooled[c] = s / area;
        }
        float[] fcWeight = weights.get("fc.weight"), fcBias = weights.get("fc.bias");
        double[] logits = new double[numClasses];
        for (int k = 0; k < numClasses; k++) {
            double s = fcBias[k];
            for (int c = 0; c < pooled.length; c++) s += fcWeight[k * pooled.length + c] * pooled[c];
            logits[k] = s;
        }
        return logits;
    }

    Map3 conv(String weightName, Map3 x, int outChannels, int kernel, int stride, int pad) {
        float[] w = weights.get(weightName);
        int outH = (x.height() + 2 * pad - kernel) / stride + 1, outW = (x.width() + 2 * pad - kernel) / stride + 1;
        double[] out = new double[outChannels * outH * outW];
        for (int o = 0; o < outChannels; o++) {
            for (int y = 0; y < outH; y++) {
                for (int xo = 0; xo < outW; xo++) {
                    double s = 0;
                    for (int c = 0; c < x.channels(); c++) {
                        for (int ky = 0; ky < kernel; ky++) {
                            int iy = y * stride - pad + ky;
                            if (iy < 0 || iy >= x.height()) continue;
                            for (int kx = 0; kx < kernel; kx++) {
                                int ix = xo * stride - pad + kx;
                                if (ix < 0 || ix >= x.width()) continue;
                                s += w[((o * x.channels() + c) * kernel + ky) * kernel + kx] * x.get(c, iy, ix);
                            }
                        }
                    }
                    out[(o * outH + y) * outW + xo] = s;
                }
            }
        }
        return new Map3(outChannels, outH, outW, out);
    }

    Map3 batchNorm(String prefix, Map3 x) {
        float[] weight = weights.get(prefix + ".weight"), bias = weights.get(prefix + ".bias");
        float[] mean = weights.get(prefix + ".running_mean"), variance = weights.get(prefix + ".running_var");
        int area = x.height() * x.width();
        double[] out = new double[x.data().length];
        for (int c = 0; c < x.channels(); c++) {
            double scale = weight[c] / Math.sqrt(variance[c] + BN_EPSILON);
            for (int i = 0; i < area; i++) out[c * area + i] = (x.data()[c * area + i] - mean[c]) * scale + bias[c];
        }
        return new Map3(x.channels(), x.height(), x.width(), out);
    }

    static Map3 relu(Map3 x) {
        double[] out = x.data().clone();
        for (int i = 0; i < out.length; i++) out[i] = Math.max(0, out[i]);
        return new Map3(x.channels(), x.height(), x.width(), out);
    }

    /** 3x3 windows, stride 2, padding 1 (padded cells never win, as -inf padding). */
    static Map3 maxPool(Map3 x) {
        int outH = (x.height() + 2 - 3) / 2 + 1, outW = (x.width() + 2 - 3) / 2 + 1;
        double[] out = new double[x.channels() * outH * outW];
        for (int c = 0; c < x.channels(); c++) {
            for (int y = 0; y < outH; y++) {
                for (int xo = 0; xo < outW; xo++) {
                    double best = Double.NEGATIVE_INFINITY;
                    for (int ky = 0; ky < 3; ky++) {
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = y * 2 - 1 + ky, ix = xo * 2 - 1 + kx;
                            if (iy >= 0 && iy < x.height() && ix >= 0 && ix < x.width())
                                best = Math.max(best, x.get(c, iy, ix));
                        }
                    }
                    out[(c * outH + y) * outW + xo] = best;
                }
            }
        }
        return new Map3(x.channels(), outH, outW, out);
    }
}
