package org.sefonnx.generator.passes;

import ai.onnx.proto.OnnxMl.AttributeProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * Folds momentum SGD's μ·m into the Gemm that computes a convolution weight's gradient: where the training graph
 * writes a state back as m' = μ·m + (g [+ wd·w]) (InPlaceAccumulatorV2 into m) and g is a Gemm's product reshaped to
 * the 4-D weight (the lowered convolutions' dW), the Gemm takes m as its C with beta μ, m' = (A·B + μ·m) [+ wd·w], and
 * the Mul and the Add are gone: one kernel instead of a Mul and an Add over every weight (ResNet-18: 11 M floats, five
 * passes a step). A gradient that is unscaled first (loss scaling, whose write-back is a Where) or computed otherwise
 * (ConvGrad, a linear layer's plain Gemm) keeps its Mul and Add.
 */
public final class MomentumIntoGemm implements GraphPass {
    @Override
    public String name() {
        return "momentum-into-weight-gradient-gemm";
    }

    @Override
    public Phase phase() {
        return Phase.TRAINING;
    }

    /** One fold: the Gemm that takes the momentum, and the update it makes redundant. */
    private record Fold(Value momentum, float mu, Node scale, Node update, Value rest) {}

    @Override
    public void apply(Graph graph) {
        Map<String, Node> producers = new HashMap<>();
        Map<String, Integer> reads = new HashMap<>();
        Set<String> outputs = new HashSet<>();
        for (Value v : graph.outputs()) outputs.add(v.name());
        for (Node n : graph.nodes()) {
            for (Value v : n.outputs) if (v != null) producers.put(v.name(), n);
            for (Value v : n.inputs) if (v != null) reads.merge(v.name(), 1, Integer::sum);
        }
        Map<String, Fold> byGemm = new HashMap<>();
        Set<String> dropped = new HashSet<>();
        // state → the value written back into it
        Map<String, String> writtenBack = new HashMap<>();
        for (Node n : graph.nodes())
            if (n.opType.equals(MsOp.IN_PLACE_ACCUMULATOR_V2.opType) && n.domain.equals(Graph.MS_DOMAIN))
                writtenBack.put(n.input(0).name(), n.input(1).name());
        for (Node n : graph.nodes()) {
            if (!n.opType.equals("Add") || !n.domain.isEmpty()) continue;
            for (int side = 0; side < 2; side++) {
                Node scale = producers.get(n.input(side).name());
                Value rest = n.input(1 - side);
                Value momentum = scale == null ? null : momentumScaled(graph, scale, producers);
                if (momentum == null
                        || !n.output(0).name().equals(writtenBack.get(momentum.name()))
                        || reads.get(scale.output(0).name()) != 1) continue;
                Node gemm = weightGradientGemm(rest, momentum, producers, reads, outputs);
                if (gemm == null || byGemm.containsKey(gemm.name)) continue;
                float mu = (float) graph.constantValues(scale.input(1))[0];
                byGemm.put(gemm.name, new Fold(momentum, mu, scale, n, rest));
                dropped.add(scale.name);
                dropped.add(n.name);
                break;
            }
        }
        if (byGemm.isEmpty()) return;
        graph.rewrite((n, r) -> {
            Fold fold = byGemm.get(n.name);
            if (fold != null) {
                Shape product = n.output(0).requireShape();
                Value c = r.ops().reshape(fold.momentum().name() + ".mat", fold.momentum(), product.sizes());
                List<Value> in = new ArrayList<>(n.inputs);
                in.add(c);
                List<AttributeProto> attrs = new ArrayList<>(n.attributes);
                attrs.add(Attr.f("beta", fold.mu()));
                r.define(n.opType, "", in, n.outputs, attrs);
            } else if (dropped.contains(n.name)) {
                if (n.opType.equals("Add")) r.replace(n.output(0), update(byGemm, n));
            } else {
                r.keep(n);
            }
        });
    }

    private static Value update(Map<String, Fold> folds, Node add) {
        for (Fold f : folds.values()) if (f.update().name.equals(add.name)) return f.rest();
        throw new IllegalStateException(add.name);
    }

    /** m where {@code n} is Mul(m, μ) of a graph input m (a checkpoint tensor) and a scalar constant μ, else null. */
    private static Value momentumScaled(Graph graph, Node n, Map<String, Node> producers) {
        if (!n.opType.equals("Mul") || !n.domain.isEmpty()) return null;
        Value m = n.input(0), mu = n.input(1);
        boolean input = graph.inputs().contains(m) && !producers.containsKey(m.name());
        return input && graph.isConstant(mu) && mu.requireShape().numel() == 1 ? m : null;
    }

    /**
     * The Gemm whose product, reshaped to {@code momentum}'s shape, is {@code update} or one term of it (an Add), read
     * by nothing else on the way; null if there is none, or if the Gemm already has a C.
     */
    private static Node weightGradientGemm(
            Value update,
            Value momentum,
            Map<String, Node> producers,
            Map<String, Integer> reads,
            Set<String> outputs) {
        List<Value> candidates = new ArrayList<>(List.of(update));
        Node sum = producers.get(update.name());
        if (sum != null && sum.opType.equals("Add") && sum.domain.isEmpty() && reads.get(update.name()) == 1) {
            candidates.add(sum.input(0));
            candidates.add(sum.input(1));
        }
        for (Value g : candidates) {
            Node reshape = producers.get(g.name());
            if (reshape == null || !reshape.opType.equals("Reshape") || !reshape.domain.isEmpty()) continue;
            // the fold changes g (and the sum it is a term of): nothing else may read them
            if (!g.requireShape().equals(momentum.requireShape()) || reads.get(g.name()) != 1) continue;
            Value product = reshape.input(0);
            Node gemm = producers.get(product.name());
            if (gemm == null
                    || !gemm.opType.equals("Gemm")
                    || !gemm.domain.isEmpty()
                    || gemm.input(2) != null
                    || gemm.attribute("beta") != null
                    || gemm.attribute("alpha") != null
                    || reads.get(product.name()) != 1
                    || outputs.contains(product.name())
                    || outputs.contains(g.name())) continue;
            return gemm;
        }
        return null;
    }
}
