package org.sefonnx.generator.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class GraphRewriteTest {
    private static Graph chain() {
        Graph g = new Graph("chain");
        Ops ops = new Ops(g);
        Value x = g.input("x", DType.FLOAT, Shape.fixed(2, 3));
        Value y = ops.relu("y", ops.neg("n", x));
        g.output(ops.exp("out", y));
        return g;
    }

    @Test
    void aReplacedValueIsReadByEveryLaterNodeAndAReplacedOutputKeepsItsName() {
        Graph g = chain();
        g.rewrite((n, r) -> {
            if (!n.opType.equals("Neg")) {
                r.keep(n);
                return;
            }
            r.replace(n.output(0), r.ops().sqrt("s", n.input(0)));
        });
        assertEquals(
                List.of("Sqrt", "Relu", "Exp"),
                g.nodes().stream().map(n -> n.opType).toList());
        assertEquals("s", g.nodes().get(1).input(0).name());

        g.rewrite((n, r) -> {
            if (n.opType.equals("Exp")) r.replace(n.output(0), r.ops().identity("other", n.input(0)));
            else r.keep(n);
        });
        assertEquals("out", g.outputs().get(0).name(), "the output is an Identity of its replacement");
        assertThrows(IllegalArgumentException.class, () -> g.value("n"), "a dropped node's value is gone");
    }

    @Test
    void aRewriteThatReadsAValueBeforeItIsDefinedIsRefused() {
        Graph g = chain();
        List<Node> original = g.nodes();
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> g.rewrite((n, r) -> {
                    if (n.opType.equals("Neg")) return; // dropped without a replacement
                    r.keep(n);
                }));
        assertTrue(e.getMessage().contains("reads n before it is defined"), e.getMessage());
        assertEquals(original.size(), 3);
    }

    @Test
    void aCompositeIsOneNodeForAutodiffAndItsBodyInTheSerialisedGraph() {
        Graph g = new Graph("c");
        Value x = g.input("x", DType.FLOAT, Shape.fixed(4));
        Composite twice = new Composite() {
            @Override
            public String name() {
                return "Twice";
            }

            @Override
            public Applied forward(Ops ops, String name, List<Value> inputs) {
                Value half = ops.add(name + ".sum", inputs.get(0), inputs.get(0));
                return new Applied(List.of(ops.identity(name, half)), List.of(half));
            }

            @Override
            public void backward(Gradients c) {}
        };
        Value y = g.composite(twice, "y", List.of(x)).get(0);
        g.output(y);
        assertEquals(List.of("Twice"), g.nodes().stream().map(n -> n.opType).toList());
        assertEquals(
                List.of("x", "y.sum"),
                g.nodes().get(0).inputs.stream().map(Value::name).toList(),
                "input, saved");
        assertEquals(2, g.nodeCount());
        assertEquals(
                List.of("Add", "Identity"),
                g.toGraphProto().getNodeList().stream().map(n -> n.getOpType()).toList());
        g.inlineComposites();
        assertEquals(
                List.of("Add", "Identity"),
                g.nodes().stream().map(n -> n.opType).toList());
    }
}
