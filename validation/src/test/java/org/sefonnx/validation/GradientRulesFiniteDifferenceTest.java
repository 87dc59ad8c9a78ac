package org.sefonnx.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sefonnx.generator.onnx.DType.DOUBLE;
import static org.sefonnx.generator.onnx.DType.FLOAT;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sefonnx.generator.autodiff.GradientRegistry;
import org.sefonnx.generator.composite.BatchNormTraining;
import org.sefonnx.generator.composite.Im2colConv;
import org.sefonnx.generator.composite.WinogradConv;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;
import org.sefonnx.validation.RuleCheck.Case;
import org.sefonnx.validation.RuleCheck.Draw;
import org.sefonnx.validation.RuleCheck.Input;

/**
 * One finite-difference check per gradient rule. Float64 where ORT's CPU kernels of the forward and the backward
 * have a double version (not: Conv/ConvGrad, BatchNormalizationGrad, ReluGrad, GlobalAveragePool, the softmax
 * gradients, and MatMul, whose backward ORT fuses into the float-only FusedMatMul) (central differences with h = 1e-6: error ~1e-9); float32 otherwise (h = 1e-2: truncation
 * ~h²·f''' and rounding ~1e-7·|loss|/h, so ~1e-3 of the largest gradient is the expected error).
 */
class GradientRulesFiniteDifferenceTest {
    static final double DOUBLE_TOLERANCE = 1e-6;
    static final double FLOAT_TOLERANCE = 5e-3;
    static final Map<String, String> WORST = new TreeMap<>();

    @TempDir
    static Path dir;

    static Input in(Draw d, Object... dims) {
        return new Input(Shape.of(dims), d);
    }

    static Input g(Object... dims) {
        return in(Draw.GAUSSIAN, dims);
    }

    static List<Case> cases() {
        return List.of(
                new Case(
                        "Add",
                        "add_broadcast",
                        DOUBLE,
                        List.of(g(2, 3, 4), g(1, 3, 1)),
                        (o, x) -> o.add("y", x.get(0), x.get(1))),
                new Case(
                        "Sub",
                        "sub_broadcast",
                        DOUBLE,
                        List.of(g(2, 3), g(3)),
                        (o, x) -> o.sub("y", x.get(0), x.get(1))),
                new Case(
                        "Mul",
                        "mul_broadcast",
                        DOUBLE,
                        List.of(g(2, 3, 4), g(3, 1)),
                        (o, x) -> o.mul("y", x.get(0), x.get(1))),
                new Case("Mul", "mul_square", DOUBLE, List.of(g(2, 5)), (o, x) -> o.mul("y", x.get(0), x.get(0))),
                new Case(
                        "Div",
                        "div_broadcast",
                        DOUBLE,
                        List.of(g(2, 3), in(Draw.POSITIVE, 1, 3)),
                        (o, x) -> o.div("y", x.get(0), x.get(1))),
                new Case("Sum", "sum3", DOUBLE, List.of(g(2, 3), g(2, 3), g(3)), (o, x) -> o.sum("y", x)),
                new Case("Neg", "neg", DOUBLE, List.of(g(2, 3)), (o, x) -> o.neg("y", x.get(0))),
                new Case("Identity", "identity", DOUBLE, List.of(g(2, 3)), (o, x) -> o.identity("y", x.get(0))),
                // float → double → float is exact, so the two Cast rules are checked against a smooth identity
                new Case(
                        "Cast",
                        "cast_round_trip",
                        FLOAT,
                        List.of(g(2, 3)),
                        (o, x) -> o.cast("y", o.cast("y64", x.get(0), DOUBLE), FLOAT)),
                new Case("Exp", "exp", DOUBLE, List.of(g(2, 3)), (o, x) -> o.exp("y", x.get(0))),
                new Case("Log", "log", DOUBLE, List.of(in(Draw.POSITIVE, 2, 3)), (o, x) -> o.log("y", x.get(0))),
                new Case("Sqrt", "sqrt", DOUBLE, List.of(in(Draw.POSITIVE, 2, 3)), (o, x) -> o.sqrt("y", x.get(0))),
                new Case(
                        "Reciprocal",
                        "reciprocal",
                        DOUBLE,
                        List.of(in(Draw.POSITIVE, 2, 3)),
                        (o, x) -> o.reciprocal("y", x.get(0))),
                new Case(
                        "Relu",
                        "relu",
                        FLOAT,
                        List.of(in(Draw.AWAY_FROM_ZERO, 2, 3, 4)),
                        (o, x) -> o.relu("y", x.get(0))),
                new Case(
                        "Conv",
                        "conv_s2_p1_nobias",
                        FLOAT,
                        List.of(g(2, 3, 7, 7), g(4, 3, 3, 3)),
                        (o, x) -> o.conv("y", x.get(0), x.get(1), null, 2, 1)),
                new Case(
                        "Conv",
                        "conv_s1_p0_bias",
                        FLOAT,
                        List.of(g(2, 2, 5, 5), g(3, 2, 1, 1), g(3)),
                        (o, x) -> o.conv("y", x.get(0), x.get(1), x.get(2), 1, 0)),
                // im2col + Gemm convolutions: every op of forward and backward has a float64 kernel, so checked in
                // float64
                new Case(
                        Im2colConv.NAME,
                        "im2col_conv_3x3_s1_p1",
                        DOUBLE,
                        List.of(g(2, 3, 5, 5), g(4, 3, 3, 3)),
                        (o, x) -> Im2colConv.apply(o, "y", x.get(0), x.get(1), 1, 1)),
                new Case(
                        Im2colConv.NAME,
                        "im2col_conv_3x3_s2_p1_odd",
                        DOUBLE,
                        List.of(g(2, 3, 7, 7), g(4, 3, 3, 3)),
                        (o, x) -> Im2colConv.apply(o, "y", x.get(0), x.get(1), 2, 1)),
                new Case(
                        Im2colConv.NAME,
                        "im2col_conv_3x3_s2_p1_even",
                        DOUBLE,
                        List.of(g(2, 2, 6, 6), g(3, 2, 3, 3)),
                        (o, x) -> Im2colConv.apply(o, "y", x.get(0), x.get(1), 2, 1)),
                new Case(
                        Im2colConv.NAME,
                        "im2col_conv_1x1_s1",
                        DOUBLE,
                        List.of(g(2, 3, 4, 4), g(5, 3, 1, 1)),
                        (o, x) -> Im2colConv.apply(o, "y", x.get(0), x.get(1), 1, 0)),
                new Case(
                        Im2colConv.NAME,
                        "im2col_conv_1x1_s2",
                        DOUBLE,
                        List.of(g(2, 3, 6, 6), g(4, 3, 1, 1)),
                        (o, x) -> Im2colConv.apply(o, "y", x.get(0), x.get(1), 2, 0)),
                new Case(
                        Im2colConv.NAME,
                        "im2col_conv_3x3_s2_p1_16ch",
                        DOUBLE,
                        List.of(g(2, 16, 6, 6), g(4, 16, 3, 3)),
                        (o, x) -> Im2colConv.apply(o, "y", x.get(0), x.get(1), 2, 1)),
                new Case(
                        Im2colConv.NAME,
                        "im2col_conv_1x1_s1_16ch",
                        DOUBLE,
                        List.of(g(2, 16, 3, 3), g(5, 16, 1, 1)),
                        (o, x) -> Im2colConv.apply(o, "y", x.get(0), x.get(1), 1, 0)),
                new Case(
                        Im2colConv.NAME,
                        "im2col_conv_7x7_s2_p3",
                        DOUBLE,
                        List.of(g(2, 2, 9, 9), g(3, 2, 7, 7)),
                        (o, x) -> Im2colConv.apply(o, "y", x.get(0), x.get(1), 2, 3)),
                // Winograd F(2x2,3x3): float32, its backward's batched products being FusedMatMul (float only);
                // even, odd (a padded last tile) and one-tile maps, and enough channels for MLAS's packed kernels
                new Case(
                        WinogradConv.NAME,
                        "winograd_conv_even",
                        FLOAT,
                        List.of(g(2, 3, 4, 6), g(4, 3, 3, 3)),
                        (o, x) -> WinogradConv.apply(o, "y", x.get(0), x.get(1))),
                new Case(
                        WinogradConv.NAME,
                        "winograd_conv_odd",
                        FLOAT,
                        List.of(g(2, 3, 5, 3), g(4, 3, 3, 3)),
                        (o, x) -> WinogradConv.apply(o, "y", x.get(0), x.get(1))),
                new Case(
                        WinogradConv.NAME,
                        "winograd_conv_2x2_map",
                        FLOAT,
                        List.of(g(3, 2, 2, 2), g(3, 2, 3, 3)),
                        (o, x) -> WinogradConv.apply(o, "y", x.get(0), x.get(1))),
                new Case(
                        WinogradConv.NAME,
                        "winograd_conv_16ch",
                        FLOAT,
                        List.of(g(2, 16, 6, 6), g(16, 16, 3, 3)),
                        (o, x) -> WinogradConv.apply(o, "y", x.get(0), x.get(1))),
                new Case(
                        BatchNormTraining.NAME,
                        "batchnorm_training",
                        FLOAT,
                        List.of(g(3, 4, 3, 3), in(Draw.POSITIVE, 4), g(4)),
                        (o, x) -> BatchNormTraining.apply(o, "bn", x.get(0), x.get(1), x.get(2), 1e-5f)
                                .output()),
                new Case(
                        "MaxPool",
                        "maxpool_3x3_s2_p1",
                        FLOAT,
                        List.of(in(Draw.DISTINCT, 2, 3, 6, 6)),
                        (o, x) -> o.maxPoolWithIndices("y", x.get(0), 3, 2, 1).get(0)),
                new Case(
                        "GlobalAveragePool",
                        "gap",
                        FLOAT,
                        List.of(g(2, 3, 4, 5)),
                        (o, x) -> o.globalAveragePool("y", x.get(0))),
                new Case(
                        "ReduceSum",
                        "reducesum_axis1",
                        DOUBLE,
                        List.of(g(2, 3, 4)),
                        (o, x) -> o.reduceSum("y", x.get(0), new long[] {1}, false)),
                new Case(
                        "ReduceMean",
                        "reducemean_keepdims",
                        DOUBLE,
                        List.of(g(2, 3, 4)),
                        (o, x) -> o.reduceMean("y", x.get(0), new long[] {0, 2}, true)),
                new Case(
                        "ReduceMean",
                        "reducemean_symbolic_batch",
                        DOUBLE,
                        List.of(g("batch", 3)),
                        (o, x) -> o.reduceMean("y", x.get(0), new long[] {0}, false)),
                new Case(
                        "ReduceL2",
                        "reducel2",
                        DOUBLE,
                        List.of(g(2, 3, 5)),
                        (o, x) -> o.reduceL2("y", x.get(0), new long[] {2}, true)),
                new Case("Reshape", "reshape", DOUBLE, List.of(g(2, 6)), (o, x) -> o.reshape("y", x.get(0), 3, 4)),
                new Case("Flatten", "flatten", DOUBLE, List.of(g(2, 3, 2, 2)), (o, x) -> o.flatten("y", x.get(0))),
                new Case(
                        "Transpose",
                        "transpose",
                        DOUBLE,
                        List.of(g(2, 3, 4)),
                        (o, x) -> o.transpose("y", x.get(0), 0, 2, 1)),
                new Case(
                        "Concat",
                        "concat_axis1",
                        DOUBLE,
                        List.of(g(2, 3, 2), g(2, 1, 2), g(2, 2, 2)),
                        (o, x) -> o.concat("y", x, 1, org.sefonnx.generator.onnx.Dim.of(6))),
                new Case(
                        "Slice",
                        "slice_axis1",
                        DOUBLE,
                        List.of(g(2, 6)),
                        (o, x) -> o.slice("y", x.get(0), new long[] {1}, new long[] {4}, new long[] {1})),
                new Case(
                        "Gemm",
                        "gemm_transB_bias",
                        DOUBLE,
                        List.of(g(3, 4), g(5, 4), g(5)),
                        (o, x) -> o.gemm("y", x.get(0), x.get(1), x.get(2), false, true)),
                new Case(
                        "Gemm",
                        "gemm_transA",
                        DOUBLE,
                        List.of(g(4, 3), g(4, 5)),
                        (o, x) -> o.gemm("y", x.get(0), x.get(1), null, true, false)),
                new Case(
                        "MatMul",
                        "matmul_broadcast_rhs",
                        FLOAT,
                        List.of(g(2, 3, 4), g(4, 5)),
                        (o, x) -> o.matmul("y", x.get(0), x.get(1))),
                new Case(
                        "MatMul",
                        "matmul_batched",
                        FLOAT,
                        List.of(g(2, 3, 4), g(2, 4, 3)),
                        (o, x) -> o.matmul("y", x.get(0), x.get(1))),
                new Case("LogSoftmax", "logsoftmax", FLOAT, List.of(g(3, 5)), (o, x) -> o.logSoftmax("y", x.get(0), 1)),
                new Case("Softmax", "softmax", FLOAT, List.of(g(3, 5)), (o, x) -> o.softmax("y", x.get(0), 1)),
                new Case(
                        "SoftmaxCrossEntropyLoss",
                        "softmax_cross_entropy_both_outputs",
                        FLOAT,
                        List.of(g(4, 5)),
                        (o, x) -> {
                            var out = o.softmaxCrossEntropy(
                                    "ce", x.get(0), o.graph().constant(DType.INT64, Shape.fixed(4), 0, 3, 1, 4));
                            Value logProb = o.reduceSum(
                                    "lp_sum",
                                    o.mul(
                                            "lp_w",
                                            out.get(1),
                                            o.graph()
                                                    .constant(
                                                            FLOAT,
                                                            Shape.fixed(4, 5),
                                                            0.3,
                                                            -0.2,
                                                            0.5,
                                                            0.1,
                                                            0.7,
                                                            -0.4,
                                                            0.2,
                                                            0.9,
                                                            -0.6,
                                                            0.3,
                                                            0.5,
                                                            0.1,
                                                            -0.3,
                                                            0.8,
                                                            0.2,
                                                            -0.1,
                                                            0.4,
                                                            0.6,
                                                            -0.5,
                                                            0.2)),
                                    new long[] {0, 1},
                                    false);
                            return o.add("y", out.get(0), logProb);
                        }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void finiteDifferencesMatchTheRule(Case c) throws Exception {
        RuleCheck.Result r = RuleCheck.run(c, dir, c.label().hashCode());
        double tol = c.dtype() == DOUBLE ? DOUBLE_TOLERANCE : FLOAT_TOLERANCE;
        synchronized (WORST) {
            WORST.put(
                    c.label(),
                    String.format(
                            "%-24s %-6s max|num-an| %.2e  max|grad| %.2e  rel %.2e",
                            c.rule(), c.dtype(), r.maxAbsError(), r.maxGradient(), r.relativeError()));
        }
        assertTrue(r.maxGradient() > 0, c.label() + ": all-zero gradient proves nothing");
        assertTrue(r.relativeError() < tol, c.label() + ": relative error " + r.relativeError() + " >= " + tol);
    }

    /** The composites the generator ships, each differentiated by its own backward. */
    static final List<String> COMPOSITES = List.of(Im2colConv.NAME, WinogradConv.NAME, BatchNormTraining.NAME);

    @Test
    void everyRegisteredRuleAndEveryCompositeHasAFiniteDifferenceCase() {
        Set<String> covered = cases().stream().map(Case::rule).collect(Collectors.toCollection(TreeSet::new));
        Set<String> rules = new TreeSet<>(GradientRegistry.standard().ops());
        rules.addAll(COMPOSITES);
        assertEquals(rules, covered);
    }

    @AfterAll
    static void report() {
        System.out.println("[gradient rules] worst finite-difference error per case:");
        WORST.values().forEach(v -> System.out.println("  " + v));
    }
}
