package org.sefonnx.generator.autodiff;

import java.util.ArrayList;
import java.util.List;
import org.sefonnx.generator.onnx.Composite;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * What a {@link GradientRule}, or a composite's backward, sees of one forward node, and where it leaves the input
 * gradients.
 */
public final class GradContext implements Composite.Gradients {
    final Node node;
    final Ops ops;
    private final List<Value> outputGrads;
    private final boolean[] needed;
    final Value[] inputGrads;
    final boolean[] handled;

    GradContext(Node node, Ops ops, List<Value> outputGrads, boolean[] needed) {
        this.node = node;
        this.ops = ops;
        this.outputGrads = outputGrads;
        this.needed = needed;
        this.inputGrads = new Value[node.inputs.size()];
        this.handled = new boolean[node.inputs.size()];
    }

    public Node node() {
        return node;
    }

    @Override
    public Ops ops() {
        return ops;
    }

    public Graph graph() {
        return ops.graph();
    }

    /** Forward input i (null if omitted). */
    @Override
    public Value I(int i) {
        return node.input(i);
    }

    /** Forward output i. */
    public Value O(int i) {
        return node.output(i);
    }

    /** Gradient of the loss w.r.t. output i, or null when no gradient flows into it. */
    @Override
    public Value GO(int i) {
        return i < outputGrads.size() ? outputGrads.get(i) : null;
    }

    /** True when the loss gradient w.r.t. input i must be produced. */
    @Override
    public boolean needs(int i) {
        return i < needed.length && needed[i];
    }

    /** Hands back the gradient w.r.t. input i. */
    @Override
    public void GI(int i, Value grad) {
        if (!needs(i)) return;
        inputGrads[i] = grad;
        handled[i] = true;
    }

    /** Hands back {@code grads.get(i)} as the gradient w.r.t. input i, for each i with one (a kernel's dX, dW, ...). */
    public void GI(List<Value> grads) {
        for (int i = 0; i < grads.size(); i++) if (grads.get(i) != null) GI(i, grads.get(i));
    }

    /** Where a kernel writes the gradient of input i: a value named after this rule, of its dtype, shaped like input i. */
    public Value slot(int i, String suffix) {
        return new Value(hint(suffix), dtype(), I(i).shape());
    }

    /**
     * One {@link #slot} per forward input, for a kernel whose gradient outputs are optional (ConvGrad): null, i.e.
     * omitted, where that gradient is not needed; as many as the node has inputs (a bias-free Conv gets no dB slot).
     */
    public List<Value> slotsIfNeeded(String... suffixes) {
        List<Value> slots = new ArrayList<>();
        for (int i = 0; i < Math.min(suffixes.length, node.inputs.size()); i++)
            slots.add(needs(i) ? slot(i, suffixes[i]) : null);
        return slots;
    }

    /**
     * Emits the com.microsoft kernel {@code op} with the forward node's attributes passed through, those the kernel
     * declares (ORT's SrcNodeAttributes()), and returns its outputs.
     */
    public List<Value> kernel(MsOp op, List<Value> in, List<Value> outs) {
        return ops.ms(op, in, outs, op.declaredOf(node.attributes));
    }

    /** {@link #kernel(MsOp, List, List)} for a kernel with one output. */
    public Value kernel(MsOp op, List<Value> in, Value out) {
        return kernel(op, in, List.of(out)).get(0);
    }

    /**
     * Declares that input i gets no separate gradient because the rule already accounted for it (batch statistics
     * inside BatchNormalizationGrad, or a repeated input whose gradient was folded into another slot).
     */
    @Override
    public void skip(int i) {
        handled[i] = true;
    }

    /** Name hint for a value of this rule. */
    @Override
    public String hint(String suffix) {
        Value o = node.output(0);
        return "grad." + (o == null ? node.name : o.name()) + "." + suffix;
    }

    public DType dtype() {
        return node.input(0).dtype();
    }

    /** A scalar constant of the forward dtype. */
    public Value scalar(double v) {
        return graph().scalar(dtype(), v);
    }

    /** Sums {@code grad} (shaped like a broadcast result) down to the shape of {@code target}. */
    public Value unbroadcast(Value grad, Value target, String suffix) {
        Shape gs = grad.requireShape(), ts = target.requireShape();
        if (gs.equals(ts)) return grad;
        List<Long> axes = new ArrayList<>();
        int lead = gs.rank() - ts.rank();
        for (int i = 0; i < gs.rank(); i++) {
            int j = i - lead;
            if (j < 0) {
                axes.add((long) i);
                continue;
            }
            var td = ts.dim(j);
            var gd = gs.dim(i);
            if (td.isFixed() && td.size() == 1 && !(gd.isFixed() && gd.size() == 1)) axes.add((long) i);
        }
        Value r = grad;
        if (!axes.isEmpty())
            r = ops.reduceSum(
                    hint(suffix + ".unbroadcast"),
                    grad,
                    axes.stream().mapToLong(Long::longValue).toArray(),
                    true);
        if (lead != 0) {
            r = ts.isFixed()
                    ? ops.reshape(hint(suffix + ".reshape"), r, ts.sizes())
                    : ops.reshapeTo(hint(suffix + ".reshape"), r, ops.shapeOf(hint(suffix + ".shape"), target), ts);
        }
        return r;
    }
}
