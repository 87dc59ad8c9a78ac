package org.sefonnx.generator.onnx;

import java.util.List;

/**
 * An operation built from several nodes that autodiff differentiates as one, by a backward of its own (PyTorch's
 * {@code torch.autograd.Function}, tinygrad's CALL with its {@code grad_fxn}): the forward emits the nodes, the
 * backward the gradient of what they compute together, which the nodes' own rules would not find (a convolution as
 * im2col + Gemm folds its gradient back in one Gather where the Gather's own rule would scatter each tap; a
 * BatchNormalization fed with batch statistics is differentiated through them). {@link Graph#composite} applies one:
 * autodiff sees the application as one node whose op type is {@link #name()}, the serialised graph its nodes.
 */
public interface Composite {
    /** What one application's forward built: its outputs, and the intermediate values its backward reads. */
    record Applied(List<Value> outputs, List<Value> saved) {}

    /** The operation's name: the op type of an application as autodiff sees it. */
    String name();

    /** Emits the nodes of one application to {@code inputs}, their values named after {@code name}. */
    Applied forward(Ops ops, String name, List<Value> inputs);

    /**
     * Emits the backward of one application. Its inputs as {@code c} numbers them are the application's inputs
     * followed by its saved values; a saved value, an intermediate of the forward, gets no gradient of its own
     * ({@link Gradients#skip}).
     */
    void backward(Gradients c);

    /** What a backward sees of one application, and where it leaves the input gradients (ORT's gradient-builder terms). */
    interface Gradients {
        /** Where the backward's nodes go. */
        Ops ops();

        /** Input i of the application (its inputs, then its saved values). */
        Value I(int i);

        /** The gradient of the loss with respect to output i, or null when none flows into it. */
        Value GO(int i);

        /** Whether the gradient with respect to input i must be produced. */
        boolean needs(int i);

        /** Hands back the gradient with respect to input i. */
        void GI(int i, Value gradient);

        /** Declares that input i gets no gradient of its own: the backward accounted for it otherwise. */
        void skip(int i);

        /** A name for a value of this backward. */
        String hint(String suffix);
    }
}
