package org.sefonnx.generator.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One operator application. A null input stands for an omitted optional input. Autodiff finds a node's gradient rule
 * by its op type, except for the application of a {@link Composite} ({@link Graph#composite}): a node that stands for
 * the nodes of its {@link #body()} and is differentiated by the composite's own backward.
 */
public final class Node {
    public final String opType;
    public final String domain;
    public final String name;
    public final List<Value> inputs;
    public final List<Value> outputs;
    public final List<AttributeProto> attributes;

    private final Composite composite;
    private final List<Node> body;

    Node(
            String opType,
            String domain,
            String name,
            List<Value> inputs,
            List<Value> outputs,
            List<AttributeProto> attributes) {
        this(opType, domain, name, inputs, outputs, attributes, null, List.of());
    }

    /** The application of {@code composite}: its inputs and saved values, its outputs, the nodes it stands for. */
    Node(String name, Composite composite, List<Value> inputs, List<Value> outputs, List<Node> body) {
        this(composite.name(), "", name, inputs, outputs, List.of(), composite, body);
    }

    private Node(
            String opType,
            String domain,
            String name,
            List<Value> inputs,
            List<Value> outputs,
            List<AttributeProto> attributes,
            Composite composite,
            List<Node> body) {
        this.opType = opType;
        this.domain = domain;
        this.name = name;
        this.inputs = Collections.unmodifiableList(inputs);
        this.outputs = Collections.unmodifiableList(new ArrayList<>(outputs));
        this.attributes = List.copyOf(attributes);
        this.composite = composite;
        this.body = List.copyOf(body);
    }

    /** The composite this node applies, or null for an operator node. */
    public Composite composite() {
        return composite;
    }

    /** The nodes a composite application stands for, in order (none for an operator node). */
    public List<Node> body() {
        return body;
    }

    /** This node reading {@code replace.apply(v)} for every input v, in its body too. */
    Node withInputs(UnaryOperator<Value> replace) {
        List<Value> in = new ArrayList<>();
        boolean changed = false;
        for (Value v : inputs) {
            Value r = v == null ? null : replace.apply(v);
            in.add(r);
            changed |= r != v;
        }
        List<Node> rebuilt = new ArrayList<>();
        for (Node n : body) {
            Node r = n.withInputs(replace);
            rebuilt.add(r);
            changed |= r != n;
        }
        return changed ? new Node(opType, domain, name, in, outputs, attributes, composite, rebuilt) : this;
    }

    public Value input(int i) {
        return i < inputs.size() ? inputs.get(i) : null;
    }

    public Value output(int i) {
        return i < outputs.size() ? outputs.get(i) : null;
    }

    public AttributeProto attribute(String attrName) {
        for (AttributeProto a : attributes) if (a.getName().equals(attrName)) return a;
        return null;
    }

    public long attrInt(String attrName, long dflt) {
        AttributeProto a = attribute(attrName);
        return a == null ? dflt : a.getI();
    }

    public float attrFloat(String attrName, float dflt) {
        AttributeProto a = attribute(attrName);
        return a == null ? dflt : a.getF();
    }

    public long[] attrInts(String attrName, long[] dflt) {
        AttributeProto a = attribute(attrName);
        if (a == null) return dflt;
        long[] r = new long[a.getIntsCount()];
        for (int i = 0; i < r.length; i++) r[i] = a.getInts(i);
        return r;
    }

    @Override
    public String toString() {
        return (domain.isEmpty() ? "" : domain + "::") + opType + " " + name + " " + inputs + " -> " + outputs;
    }
}
