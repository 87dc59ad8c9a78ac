package org.sefonnx.generator.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import java.util.Collections;
import java.util.List;

/**
 * One operator application. A null input stands for an omitted optional input. (Autodiff finds a node's gradient
 * rule by its op type; a run that must be differentiated otherwise is declared a {@link Graph#composite}.)
 */
public final class Node {
    public final String opType;
    public final String domain;
    public final String name;
    public final List<Value> inputs;
    public final List<Value> outputs;
    public final List<AttributeProto> attributes;

    Node(
            String opType,
            String domain,
            String name,
            List<Value> inputs,
            List<Value> outputs,
            List<AttributeProto> attributes) {
        this.opType = opType;
        this.domain = domain;
        this.name = name;
        this.inputs = Collections.unmodifiableList(inputs);
        this.outputs = Collections.unmodifiableList(new java.util.ArrayList<>(outputs));
        this.attributes = List.copyOf(attributes);
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

    public String attrString(String attrName, String dflt) {
        AttributeProto a = attribute(attrName);
        return a == null ? dflt : a.getS().toStringUtf8();
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
