package org.sefonnx.generator.autodiff;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * Reverse-mode differentiation of a forward graph: walks the nodes backwards from a scalar loss and appends, for
 * every node on a path from a differentiated input to the loss, the nodes its {@link GradientRule} emits (for a
 * composite application, its composite's backward).
 */
public final class Autodiff {
    private final GradientRegistry registry;

    /** Differentiates with the rules of {@code registry}. */
    public Autodiff(GradientRegistry registry) {
        this.registry = registry;
    }

    /**
     * Appends the backward of {@code loss} to {@code graph} and returns the gradient of each value in {@code wrt}, in
     * that order (a value that does not influence the loss is an error: it would silently never train).
     */
    public Map<Value, Value> gradients(Graph graph, Value loss, List<Value> wrt) {
        Ops ops = new Ops(graph);
        List<Node> forward = graph.nodes();

        // values that depend on a differentiated input
        Set<String> dependent = new HashSet<>();
        for (Value v : wrt) dependent.add(v.name());
        for (Node n : forward) {
            boolean any = n.inputs.stream().anyMatch(v -> v != null && dependent.contains(v.name()));
            if (any) for (Value o : n.outputs) if (o != null && o.dtype().isFloating()) dependent.add(o.name());
        }
        // nodes that the loss depends on
        Set<String> needed = new HashSet<>(List.of(loss.name()));
        List<Node> onPath = new ArrayList<>();
        for (int i = forward.size() - 1; i >= 0; i--) {
            Node n = forward.get(i);
            if (n.outputs.stream().noneMatch(o -> o != null && needed.contains(o.name()))) continue;
            onPath.add(n);
            for (Value v : n.inputs) if (v != null) needed.add(v.name());
        }

        Map<String, List<Value>> contributions = new HashMap<>();
        contributions
                .computeIfAbsent(loss.name(), k -> new ArrayList<>())
                .add(graph.constant(loss.dtype(), Shape.SCALAR, 1.0));

        for (Node n : onPath) { // already in reverse topological order
            List<Value> outputGrads = new ArrayList<>();
            boolean anyGrad = false;
            for (Value o : n.outputs) {
                Value g = o == null ? null : sum(ops, o, contributions.remove(o.name()));
                outputGrads.add(g);
                anyGrad |= g != null;
            }
            if (!anyGrad) continue;
            boolean[] need = new boolean[n.inputs.size()];
            boolean anyNeed = false;
            for (int i = 0; i < need.length; i++) {
                Value in = n.input(i);
                need[i] =
                        in != null && in.dtype().isFloating() && dependent.contains(in.name()) && !graph.isConstant(in);
                anyNeed |= need[i];
            }
            if (!anyNeed) continue;
            GradContext c = new GradContext(n, ops, outputGrads, need);
            if (n.composite() != null) {
                n.composite().backward(c);
            } else {
                GradientRule rule = registry.rule(n);
                if (rule == null)
                    throw new IllegalStateException("no gradient rule for op " + n.opType + " (node " + n.name + ")");
                rule.build(c);
            }
            for (int i = 0; i < need.length; i++) {
                if (need[i] && !c.handled[i]) {
                    throw new IllegalStateException(
                            "gradient rule " + n.opType + " gave no gradient for input " + i + " of " + n.name);
                }
                if (c.inputGrads[i] != null)
                    contributions
                            .computeIfAbsent(n.input(i).name(), k -> new ArrayList<>())
                            .add(c.inputGrads[i]);
            }
        }

        Map<Value, Value> result = new LinkedHashMap<>();
        for (Value v : wrt) {
            Value g = sum(ops, v, contributions.remove(v.name()));
            if (g == null)
                throw new IllegalStateException("'" + v.name() + "' does not influence the loss " + loss.name());
            result.put(v, g);
        }
        return result;
    }

    private static Value sum(Ops ops, Value of, List<Value> parts) {
        if (parts == null || parts.isEmpty()) return null;
        return ops.sum("grad." + of.name(), parts);
    }
}
