package org.sefonnx.generator.autodiff;

/**
 * The backward of one forward op, in the style of ONNX Runtime's gradient_builder.cc: read the node's inputs I(i),
 * outputs O(i) and output gradients GO(i), emit nodes, and hand back the input gradients GI(i) that are needed.
 */
@FunctionalInterface
public interface GradientRule {
    void build(GradContext c);
}
