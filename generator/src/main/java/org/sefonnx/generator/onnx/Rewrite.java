package org.sefonnx.generator.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A graph pass's hold on the node list while {@link Graph#rewrite} rebuilds it: what the pass keeps or emits lands
 * where the node it is looking at was, and a replaced value is read in its place by every later node and output.
 */
public final class Rewrite {
    private final Graph graph;
    private final Ops ops;
    private final Map<String, Value> replacements = new HashMap<>();

    Rewrite(Graph graph) {
        this.graph = graph;
        this.ops = new Ops(graph);
    }

    /** Builds new nodes at the current position. */
    public Ops ops() {
        return ops;
    }

    /** Appends {@code n}, a node of this graph (the one looked at, or one dropped earlier), reading current values. */
    public void keep(Node n) {
        graph.append(n.withInputs(this::current));
    }

    /** From now on, every node and graph output that reads {@code old} reads {@code now}. */
    public void replace(Value old, Value now) {
        if (!old.name().equals(now.name())) replacements.put(old.name(), now);
    }

    /** {@code v}, or what it was replaced by. */
    public Value current(Value v) {
        Value r = v;
        for (Value next = replacements.get(r.name()); next != null; next = replacements.get(r.name())) r = next;
        return r;
    }

    /**
     * Appends a node and returns its outputs: each either a value of this graph whose node the pass dropped (the very
     * value, so that its readers stay as they are), or a new one, registered under a fresh name made from its name.
     * Null stands for an omitted output.
     */
    public List<Value> define(
            String opType, String domain, List<Value> inputs, List<Value> outputs, List<AttributeProto> attrs) {
        List<Value> in = new ArrayList<>();
        for (Value v : inputs) in.add(v == null ? null : current(v));
        List<Value> out = new ArrayList<>();
        for (Value v : outputs) out.add(v == null || graph.isRegistered(v) ? v : graph.declare(v));
        String first =
                out.isEmpty() || out.get(0) == null ? "" : ":" + out.get(0).name();
        graph.append(new Node(opType, domain, graph.freshName("n:" + opType + first), in, out, attrs));
        return out;
    }
}
