package org.sefonnx.generator.passes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

class MomentumIntoGemmTest {
    /**
     * The optimizer's wiring for a weight [2, 3, 2, 2]: m' = μ·m + (g + wd·w) written back into m, g a Gemm's [2, 12]
     * product reshaped to the weight ({@code reshaped}), or that plus zero; g also an output if {@code gradientReadTwice}.
     */
    private static Graph momentumUpdate(boolean reshaped, boolean gradientReadTwice) {
        Graph g = new Graph("sgd");
        Ops ops = new Ops(g);
        Value w = g.input("w", DType.FLOAT, Shape.fixed(2, 3, 2, 2));
        Value m = g.input("w.momentum", DType.FLOAT, Shape.fixed(2, 3, 2, 2));
        Value a = g.input("a", DType.FLOAT, Shape.fixed(2, 5)), b = g.input("b", DType.FLOAT, Shape.fixed(12, 5));
        Value product = ops.gemm("dw_mat", a, b, null, false, true);
        Value grad = reshaped
                ? ops.reshape("dw", product, 2, 3, 2, 2)
                : ops.add("dw", ops.reshape("dw_r", product, 2, 3, 2, 2), g.scalar(DType.FLOAT, 0));
        Value decayed = ops.add("w.decayed_grad", grad, ops.mul("w.decay", w, g.scalar(DType.FLOAT, 1e-4)));
        Value next = ops.add("w.momentum.next", ops.mul("w.momentum.scaled", m, g.scalar(DType.FLOAT, 0.9)), decayed);
        g.output(ops.ms(
                        MsOp.IN_PLACE_ACCUMULATOR_V2,
                        List.of(m, next, g.constant(DType.BOOL, Shape.fixed(1), 1)),
                        List.of(new Value("w.momentum.written", DType.BOOL, Shape.fixed(1))))
                .get(0));
        if (gradientReadTwice) g.output(grad);
        return g;
    }

    private static Node only(Graph g, String opType) {
        List<Node> nodes =
                g.nodes().stream().filter(n -> n.opType.equals(opType)).toList();
        assertEquals(1, nodes.size(), opType);
        return nodes.get(0);
    }

    @Test
    void theWeightGradientsGemmTakesTheMomentumAsItsCAndTheMulAndAddGo() {
        Graph g = momentumUpdate(true, false);
        new MomentumIntoGemm().apply(g);
        Node gemm = only(g, "Gemm");
        assertEquals(3, gemm.inputs.size());
        Node c = g.nodes().stream()
                .filter(n -> n.outputs.contains(gemm.input(2)))
                .findFirst()
                .orElseThrow();
        assertEquals("Reshape", c.opType);
        assertEquals("w.momentum", c.input(0).name());
        assertEquals(Shape.fixed(2, 12), gemm.input(2).shape());
        assertEquals(0.9f, gemm.attrFloat("beta", 1f));
        // left: the decay's Mul and the Add of g + wd·w, whose value is now m', written back into m
        assertEquals(
                List.of("w.decay"),
                g.nodes().stream()
                        .filter(n -> n.opType.equals("Mul"))
                        .map(n -> n.output(0).name())
                        .toList());
        assertEquals("w.decayed_grad", only(g, "InPlaceAccumulatorV2").input(1).name());
    }

    @Test
    void aGradientThatIsNotAReshapedGemmProductOrIsReadElsewhereKeepsItsMulAndAdd() {
        for (Graph g : List.of(momentumUpdate(false, false), momentumUpdate(true, true))) {
            int nodes = g.nodeCount();
            new MomentumIntoGemm().apply(g);
            assertEquals(nodes, g.nodeCount());
            assertNull(only(g, "Gemm").input(2));
        }
    }
}
