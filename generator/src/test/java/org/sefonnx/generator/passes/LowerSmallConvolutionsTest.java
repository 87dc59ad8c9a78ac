package org.sefonnx.generator.passes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.sefonnx.generator.autodiff.Autodiff;
import org.sefonnx.generator.autodiff.GradientRegistry;
import org.sefonnx.generator.composite.Im2colConv;
import org.sefonnx.generator.composite.WinogradConv;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Dim;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

class LowerSmallConvolutionsTest {
    /** One bias-free convolution per case, each on its own input, all summed into one output. */
    private static Graph convolutions(int... cases) {
        Graph g = new Graph("convs");
        Ops ops = new Ops(g);
        Value sum = null;
        for (int i = 0; i < cases.length; i += 5) {
            int side = cases[i], kernel = cases[i + 1], stride = cases[i + 2], pad = cases[i + 3], bias = cases[i + 4];
            Value x = g.input("x" + i, DType.FLOAT, Shape.of(Dim.sym("N"), 2L, (long) side, (long) side));
            Value w = g.input("w" + i, DType.FLOAT, Shape.fixed(3, 2, kernel, kernel));
            Value b = bias == 1 ? g.input("b" + i, DType.FLOAT, Shape.fixed(3)) : null;
            Value y = ops.conv("conv" + i, x, w, b, stride, pad);
            Value s = ops.reduceSum("sum" + i, y, Ops.allAxes(y), false);
            sum = sum == null ? s : ops.add("total" + i, sum, s);
        }
        g.output(sum, "loss");
        return g;
    }

    private static Map<String, Long> opTypes(Graph g) {
        return g.nodes().stream().collect(Collectors.groupingBy(n -> n.opType, Collectors.counting()));
    }

    @Test
    void convolutionsOnMapsUpToThirtyTwoByThirtyTwoBecomeWinogradOrIm2colAndLargerOnesStay() {
        Graph g = convolutions(
                32, 3, 1, 1, 0, // 32×32 output, 3×3 stride 1: Winograd
                33, 3, 1, 1, 0, // 33×33 output: more than 32×32 cells, kept
                64, 3, 2, 1, 0, // 32×32 output at stride 2: im2col
                8, 1, 1, 0, 0, // 1×1: im2col
                2, 3, 1, 1, 0, // 3×3 on a 2×2 map: one tile per image, im2col
                8, 3, 1, 1, 1); // with a bias: kept
        new LowerSmallConvolutions().apply(g);
        Map<String, Long> ops = opTypes(g);
        assertEquals(1L, ops.get(WinogradConv.NAME));
        assertEquals(3L, ops.get(Im2colConv.NAME));
        assertEquals(2L, ops.get("Conv"));
        List<String> kept = g.nodes().stream()
                .filter(n -> n.opType.equals("Conv"))
                .map(n -> n.input(0).name())
                .toList();
        assertEquals(List.of("x5", "x25"), kept);
    }

    @Test
    void aLoweredConvolutionReadsAndGivesNchwAndIsDifferentiatedByItsComposite() {
        Graph g = convolutions(6, 3, 1, 1, 0);
        Value loss = g.outputs().get(0), x = g.value("x0"), w = g.value("w0");
        new LowerSmallConvolutions().apply(g);
        Node application = g.nodes().stream()
                .filter(n -> n.composite() != null)
                .findFirst()
                .orElseThrow();
        // the composite computes batch-last between a transpose of x and one back to [N, Co, H, W]
        assertEquals(Shape.of(2L, 6L, 6L, Dim.sym("N")), application.input(0).shape());
        Node back = g.nodes().get(g.nodes().indexOf(application) + 1);
        assertEquals("Transpose", back.opType);
        assertEquals(Shape.of(Dim.sym("N"), 3L, 6L, 6L), back.output(0).shape());
        new Autodiff(GradientRegistry.standard()).gradients(g, loss, List.of(x, w));
        List<String> serialised =
                g.toGraphProto().getNodeList().stream().map(n -> n.getOpType()).toList();
        assertTrue(!serialised.contains("ConvGrad") && !serialised.contains("Conv"), serialised.toString());
        assertTrue(serialised.contains("FusedMatMul"), "Winograd's backward: " + serialised);
    }
}
