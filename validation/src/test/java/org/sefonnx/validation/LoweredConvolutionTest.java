package org.sefonnx.validation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.sefonnx.generator.autodiff.Autodiff;
import org.sefonnx.generator.autodiff.GradientRegistry;
import org.sefonnx.generator.composite.Im2colConv;
import org.sefonnx.generator.composite.WinogradConv;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Dim;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * The CPU training graph's convolutions — im2col + Gemm and Winograd F(2×2, 3×3) — and ORT's own Conv/ConvGrad,
 * forward values and gradients (dX, dW through each autodiff rule), against a plain-Java direct convolution summed in
 * double. The finite-difference suite checks that each rule differentiates what its forward computes; this checks that
 * both are the convolution's, at the map sizes the shipped specs lower (even, odd and one-tile maps; channel counts
 * MLAS packs), and how exact they are.
 *
 * <p>Seen, relative to the largest entry: ≤ 5e-7 forward for all three; dX and dW ≤ 3e-7 for Conv and im2col, ≤ 6.5e-7
 * for Winograd (its transforms only add, subtract and halve). F(4×4, 3×3), tried and dropped, was at 4e-6.
 */
class LoweredConvolutionTest {
    /** ORT's Conv (and ConvGrad), and the CPU graph's two lowerings. */
    static final List<String> FORMS = List.of("conv", "im2col", "winograd");

    /** 20-50x the worst seen (Winograd, the least exact: 3e-7 forward, 6.5e-7 for dW). */
    static final double TOLERANCE = 1.5e-5;

    @TempDir
    static Path dir;

    @ParameterizedTest(name = "C={0} Co={1} {2}x{3}")
    @CsvSource({
        "3, 4, 5, 5",
        "16, 16, 16, 16",
        "64, 32, 8, 8",
        "32, 64, 12, 12",
        "16, 8, 6, 6",
        "8, 8, 3, 3",
        "16, 16, 2, 2",
        "4, 4, 7, 5"
    })
    void everyLoweringComputesTheConvolution(int channels, int outChannels, int h, int w) throws Exception {
        int batch = 3;
        Random r = new Random(channels * 31L + h);
        double[] x = gaussian(r, batch * channels * h * w), k = gaussian(r, outChannels * channels * 9);
        double[] reference = direct(x, k, null, batch, channels, outChannels, h, w)[0];

        Graph g = new Graph("lowered_conv_forward");
        Ops ops = new Ops(g);
        Value xv = g.input("x", DType.FLOAT, Shape.of(Dim.sym("N"), channels, h, w));
        Value wv = g.input("w", DType.FLOAT, Shape.fixed(outChannels, channels, 3, 3));
        List<String> outs = new ArrayList<>();
        for (String form : FORMS)
            outs.add(g.output(lowered(form, ops, form, xv, wv), form).name());
        Path model = dir.resolve("conv_" + channels + "_" + outChannels + "_" + h + "x" + w + ".onnx");
        Files.write(model, g.toModel("test", "lowered conv forward").toByteArray());

        try (OrtAdapter.Inference s = Ort.ADAPTER.openInference(model, Ort.CPU)) {
            List<HostTensor> o = s.run(
                    List.of("x", "w"),
                    List.of(
                            HostTensor.floats(floats(x), batch, channels, h, w),
                            HostTensor.floats(floats(k), outChannels, channels, 3, 3)),
                    outs);
            for (int f = 0; f < FORMS.size(); f++) {
                HostTensor y = o.get(f);
                assertArrayEquals(new long[] {batch, outChannels, h, w}, y.shape(), FORMS.get(f));
                double relative = worstRelative(y.toFloats(), reference);
                System.out.printf(
                        "[conv forward] %-8s C=%d Co=%d %dx%d: worst %.2e of the largest output%n",
                        FORMS.get(f), channels, outChannels, h, w, relative);
                assertTrue(
                        relative < TOLERANCE,
                        FORMS.get(f) + " differs from the direct convolution by " + relative
                                + " of its largest output");
            }
        }
    }

    /**
     * dX and dW of loss = Σ y ⊙ R through each lowering's gradient rule, against the same in double: dX the full
     * correlation of R with the flipped kernel, dW the correlation of R with X.
     */
    @ParameterizedTest(name = "C={0} Co={1} {2}x{3}")
    @CsvSource({"16, 16, 16, 16", "64, 64, 16, 16", "64, 32, 8, 8", "32, 64, 12, 12", "16, 8, 6, 6", "8, 8, 3, 3"})
    void everyLoweringsGradientIsTheConvolutionsGradient(int channels, int outChannels, int h, int w) throws Exception {
        int batch = 3;
        Random r = new Random(channels * 17L + h);
        double[] x = gaussian(r, batch * channels * h * w), k = gaussian(r, outChannels * channels * 9);
        double[] weights = gaussian(r, batch * outChannels * h * w);
        double[][] reference = direct(x, k, weights, batch, channels, outChannels, h, w);
        for (String form : FORMS) {
            Graph g = new Graph("lowered_conv_backward");
            Ops ops = new Ops(g);
            Value xv = g.input("x", DType.FLOAT, Shape.of(Dim.sym("N"), channels, h, w));
            Value wv = g.input("w", DType.FLOAT, Shape.fixed(outChannels, channels, 3, 3));
            Value y = lowered(form, ops, "y", xv, wv);
            Value rv = g.input("r", DType.FLOAT, Shape.of(Dim.sym("N"), outChannels, h, w));
            Value loss = ops.reduceSum("loss", ops.mul("weighted", y, rv), Ops.allAxes(y), false);
            g.output(loss);
            var grads = new Autodiff(GradientRegistry.standard()).gradients(g, loss, List.of(xv, wv));
            String dx = g.output(grads.get(xv), "dx").name(),
                    dw = g.output(grads.get(wv), "dw").name();
            Path model = dir.resolve("conv_bwd_" + form + "_" + channels + "_" + h + ".onnx");
            Files.write(model, g.toModel("test", "lowered conv backward").toByteArray());
            try (OrtAdapter.Inference s = Ort.ADAPTER.openInference(model, Ort.CPU)) {
                List<HostTensor> o = s.run(
                        List.of("x", "w", "r"),
                        List.of(
                                HostTensor.floats(floats(x), batch, channels, h, w),
                                HostTensor.floats(floats(k), outChannels, channels, 3, 3),
                                HostTensor.floats(floats(weights), batch, outChannels, h, w)),
                        List.of(dx, dw));
                String[] what = {"dX", "dW"};
                for (int t = 0; t < 2; t++) {
                    double relative = worstRelative(o.get(t).toFloats(), reference[t + 1]);
                    System.out.printf(
                            "[conv backward] %-8s %s C=%d Co=%d %dx%d: worst %.2e of the largest entry%n",
                            form, what[t], channels, outChannels, h, w, relative);
                    assertTrue(relative < TOLERANCE, form + " " + what[t] + " differs by " + relative);
                }
            }
        }
    }

    private static double worstRelative(float[] got, double[] reference) {
        double worst = 0, scale = 0;
        for (int i = 0; i < got.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - reference[i]));
            scale = Math.max(scale, Math.abs(reference[i]));
        }
        return worst / scale;
    }

    /** The 3×3, stride-1, pad-1 convolution of {@code x} by {@code w} in one of {@link #FORMS}. */
    static Value lowered(String form, Ops ops, String name, Value x, Value w) {
        return switch (form) {
            case "conv" -> ops.conv(name, x, w, null, 1, 1);
            case "im2col" -> Im2colConv.apply(ops, name, x, w, 1, 1);
            case "winograd" -> WinogradConv.apply(ops, name, x, w);
            default -> throw new IllegalArgumentException(form);
        };
    }

    /**
     * In double: y = conv(x, w) (y[n][o][i][j] = Σ_c Σ_u Σ_v x[n][c][i+u−1][j+v−1]·w[o][c][u][v], zero padding) and,
     * when {@code r} is given, dX and dW of Σ y ⊙ r; returns {y, dX, dW}.
     */
    static double[][] direct(
            double[] x, double[] w, double[] r, int batch, int channels, int outChannels, int h, int wd) {
        double[] y = new double[batch * outChannels * h * wd], dx = new double[x.length], dw = new double[w.length];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < outChannels; o++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < wd; j++) {
                        int yi = ((n * outChannels + o) * h + i) * wd + j;
                        double g = r == null ? 0 : r[yi];
                        for (int c = 0; c < channels; c++)
                            for (int u = 0; u < 3; u++)
                                for (int v = 0; v < 3; v++) {
                                    int a = i + u - 1, b = j + v - 1;
                                    if (a < 0 || a >= h || b < 0 || b >= wd) continue;
                                    int xi = ((n * channels + c) * h + a) * wd + b,
                                            wi = ((o * channels + c) * 3 + u) * 3 + v;
                                    y[yi] += x[xi] * w[wi];
                                    dx[xi] += g * w[wi];
                                    dw[wi] += g * x[xi];
                                }
                    }
        return new double[][] {y, dx, dw};
    }

    private static double[] gaussian(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }
}
