package org.sefonnx.generator.autodiff;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.sefonnx.generator.onnx.Node;

/**
 * The table of gradient rules, one per standard-domain op type, grouped by kind in the {@code *Rules} classes. (A
 * composite application, {@link org.sefonnx.generator.onnx.Graph#composite}, is differentiated by its composite's own
 * backward and has no entry here.)
 */
public final class GradientRegistry {
    private final Map<String, GradientRule> rules = new TreeMap<>();

    /** The registry with every rule sef-onnx ships. */
    public static GradientRegistry standard() {
        GradientRegistry r = new GradientRegistry();
        ElementwiseRules.register(r);
        ConvRules.register(r);
        PoolingRules.register(r);
        ReduceRules.register(r);
        ShapeRules.register(r);
        LinearAlgebraRules.register(r);
        LossRules.register(r);
        return r;
    }

    /** Adds the rule of op type {@code op}; a second rule for one op is an error. */
    public void register(String op, GradientRule rule) {
        if (rules.putIfAbsent(op, rule) != null) throw new IllegalStateException("two gradient rules for " + op);
    }

    /** The rule of op type {@code op}, or null. */
    public GradientRule rule(String op) {
        return rules.get(op);
    }

    /** The rule for a forward node, or null (always for a node outside the standard domain: no rule is written for one). */
    public GradientRule rule(Node node) {
        return node.domain.isEmpty() ? rules.get(node.opType) : null;
    }

    /** The op types that have a rule. */
    public Set<String> ops() {
        return rules.keySet();
    }
}
