package org.sefonnx.generator.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Typed operator builders over a {@link Graph}: each method appends one ONNX node and infers the dtype and shape of
 * its outputs, so that later builders (and the gradient rules) can reason about broadcasting and sizes.
 */
public final class Ops {
    private final Graph g;

    public Ops(Graph g) {
        this.g = g;
    }

    public Graph graph() {
        return g;
    }

    private Value out(String hint, DType dtype, Shape shape) {
        return new Value(g.freshName(hint), dtype, shape);
    }

    private Value single(
            String op, String domain, String hint, List<Value> in, DType dtype, Shape shape, AttributeProto... attrs) {
        return g.addNode(op, domain, in, List.of(out(hint, dtype, shape)), List.of(attrs))
                .get(0);
    }

    // ---- generic --------------------------------------------------------------------------------------------------

    /** Any standard-domain node with caller-declared outputs (null entries stand for omitted optional outputs). */
    public List<Value> node(String op, String domain, List<Value> in, List<Value> outs, AttributeProto... attrs) {
        if (domain.equals(Graph.MS_DOMAIN)) {
            throw new IllegalArgumentException(op + ": com.microsoft ops are built by Ops.ms from their MsOp schema");
        }
        return declared(op, domain, in, outs, List.of(attrs));
    }

    /** A com.microsoft node, checked against {@code op}'s schema (arity, attribute names and types). */
    public List<Value> ms(MsOp op, List<Value> in, List<Value> outs, AttributeProto... attrs) {
        op.check(in, outs, List.of(attrs));
        return declared(op.opType, Graph.MS_DOMAIN, in, outs, List.of(attrs));
    }

    private List<Value> declared(
            String op, String domain, List<Value> in, List<Value> outs, List<AttributeProto> attrs) {
        List<Value> fresh = new ArrayList<>();
        for (Value o : outs) fresh.add(o == null ? null : out(o.name(), o.dtype(), o.shape()));
        return g.addNode(op, domain, in, fresh, attrs);
    }

    // ---- element-wise ---------------------------------------------------------------------------------------------

    public Value unary(String op, String hint, Value x) {
        return single(op, "", hint, List.of(x), x.dtype(), x.shape());
    }

    public Value relu(String hint, Value x) {
        return unary("Relu", hint, x);
    }

    public Value exp(String hint, Value x) {
        return unary("Exp", hint, x);
    }

    public Value log(String hint, Value x) {
        return unary("Log", hint, x);
    }

    public Value neg(String hint, Value x) {
        return unary("Neg", hint, x);
    }

    public Value sqrt(String hint, Value x) {
        return unary("Sqrt", hint, x);
    }

    public Value reciprocal(String hint, Value x) {
        return unary("Reciprocal", hint, x);
    }

    public Value identity(String hint, Value x) {
        return unary("Identity", hint, x);
    }

    public Value binary(String op, String hint, Value a, Value b) {
        if (a.dtype() != b.dtype()) throw new IllegalArgumentException(op + ": dtype mismatch " + a + " vs " + b);
        return single(op, "", hint, List.of(a, b), a.dtype(), broadcast(op, a.shape(), b.shape()));
    }

    public Value add(String hint, Value a, Value b) {
        return binary("Add", hint, a, b);
    }

    public Value sub(String hint, Value a, Value b) {
        return binary("Sub", hint, a, b);
    }

    public Value mul(String hint, Value a, Value b) {
        return binary("Mul", hint, a, b);
    }

    public Value div(String hint, Value a, Value b) {
        return binary("Div", hint, a, b);
    }

    public Value max(String hint, Value a, Value b) {
        return binary("Max", hint, a, b);
    }

    /** Numpy broadcasting of two shapes. */
    public static Shape broadcast(String op, Shape a, Shape b) {
        if (a == null || b == null) return null;
        int rank = Math.max(a.rank(), b.rank());
        List<Dim> dims = new ArrayList<>();
        for (int i = 0; i < rank; i++) {
            int ia = i - (rank - a.rank()), ib = i - (rank - b.rank());
            Dim da = ia >= 0 ? a.dim(ia) : Dim.of(1);
            Dim db = ib >= 0 ? b.dim(ib) : Dim.of(1);
            if (da.equals(db) || (db.isFixed() && db.size() == 1)) dims.add(da);
            else if (da.isFixed() && da.size() == 1) dims.add(db);
            else throw new IllegalArgumentException(op + ": shapes " + a + " and " + b + " do not broadcast");
        }
        return Shape.of(dims);
    }

    public Value sum(String hint, List<Value> terms) {
        if (terms.size() == 1) return terms.get(0);
        if (terms.size() == 2) return add(hint, terms.get(0), terms.get(1));
        Shape s = terms.get(0).shape();
        for (Value t : terms) s = broadcast("Sum", s, t.shape());
        return single("Sum", "", hint, terms, terms.get(0).dtype(), s);
    }

    public Value cast(String hint, Value x, DType to) {
        return single("Cast", "", hint, List.of(x), to, x.shape(), Attr.i("to", to.onnxCode));
    }

    /** Element-wise a == b as BOOL. */
    public Value equal(String hint, Value a, Value b) {
        return single("Equal", "", hint, List.of(a, b), DType.BOOL, broadcast("Equal", a.shape(), b.shape()));
    }

    public Value where(String hint, Value cond, Value a, Value b) {
        return single(
                "Where",
                "",
                hint,
                List.of(cond, a, b),
                a.dtype(),
                broadcast("Where", cond.shape(), broadcast("Where", a.shape(), b.shape())));
    }

    // ---- convolution, normalisation, pooling ------------------------------------------------------------------

    /** 2-D convolution, square kernel taken from the weight's shape, symmetric padding, no dilation, group 1. */
    public Value conv(String hint, Value x, Value w, Value bias, int stride, int pad) {
        Shape xs = x.requireShape(), ws = w.requireShape();
        long k = ws.size(2);
        List<Dim> dims = new ArrayList<>();
        dims.add(xs.dim(0));
        dims.add(ws.dim(0));
        for (int i = 2; i < 4; i++) dims.add(Dim.of((xs.size(i) + 2L * pad - k) / stride + 1));
        List<Value> in = new ArrayList<>(List.of(x, w));
        if (bias != null) in.add(bias);
        return single(
                "Conv",
                "",
                hint,
                in,
                x.dtype(),
                Shape.of(dims),
                Attr.ints("kernel_shape", k, k),
                Attr.ints("strides", stride, stride),
                Attr.ints("pads", pad, pad, pad, pad),
                Attr.ints("dilations", 1, 1),
                Attr.i("group", 1));
    }

    /**
     * ONNX BatchNormalization in inference form: normalises with the given mean/var. Fed with batch statistics it is
     * the training-mode forward, which BatchNorm declares to autodiff as a composite of its own.
     */
    public Value batchNormalization(
            String hint, Value x, Value scale, Value bias, Value mean, Value var, float epsilon) {
        return single(
                "BatchNormalization",
                "",
                hint,
                List.of(x, scale, bias, mean, var),
                x.dtype(),
                x.shape(),
                Attr.f("epsilon", epsilon));
    }

    /** MaxPool with square window; also returns the Indices output (flat positions), which the backward needs. */
    public List<Value> maxPoolWithIndices(String hint, Value x, int kernel, int stride, int pad) {
        Shape xs = x.requireShape();
        List<Dim> dims = new ArrayList<>(xs.dims().subList(0, 2));
        for (int i = 2; i < 4; i++) dims.add(Dim.of((xs.size(i) + 2L * pad - kernel) / stride + 1));
        Shape s = Shape.of(dims);
        return g.addNode(
                "MaxPool",
                "",
                List.of(x),
                List.of(out(hint, x.dtype(), s), out(hint + ".indices", DType.INT64, s)),
                List.of(
                        Attr.ints("kernel_shape", kernel, kernel),
                        Attr.ints("strides", stride, stride),
                        Attr.ints("pads", pad, pad, pad, pad)));
    }

    public Value globalAveragePool(String hint, Value x) {
        Shape xs = x.requireShape();
        return single("GlobalAveragePool", "", hint, List.of(x), x.dtype(), Shape.of(xs.dim(0), xs.dim(1), 1L, 1L));
    }

    public Value flatten(String hint, Value x) {
        Shape xs = x.requireShape();
        long rest = 1;
        for (int i = 1; i < xs.rank(); i++) rest *= xs.size(i);
        return single("Flatten", "", hint, List.of(x), x.dtype(), Shape.of(xs.dim(0), rest), Attr.i("axis", 1));
    }

    // ---- linear algebra -------------------------------------------------------------------------------------------

    /** Gemm with alpha = beta = 1: Y = op(A) op(B) + C. */
    public Value gemm(String hint, Value a, Value b, Value c, boolean transA, boolean transB) {
        return gemm(hint, a, b, c, 1.0, transA, transB);
    }

    /** A·B + beta·C (with A, B transposed as asked); beta 1 is ONNX's default and then not written. */
    public Value gemm(String hint, Value a, Value b, Value c, double beta, boolean transA, boolean transB) {
        Shape as = a.requireShape(), bs = b.requireShape();
        Dim m = transA ? as.dim(1) : as.dim(0);
        Dim n = transB ? bs.dim(0) : bs.dim(1);
        List<Value> in = new ArrayList<>(List.of(a, b));
        if (c != null) in.add(c);
        List<AttributeProto> attrs =
                new ArrayList<>(List.of(Attr.i("transA", transA ? 1 : 0), Attr.i("transB", transB ? 1 : 0)));
        if (beta != 1.0) attrs.add(Attr.f("beta", (float) beta));
        return single("Gemm", "", hint, in, a.dtype(), Shape.of(m, n), attrs.toArray(new AttributeProto[0]));
    }

    /** Batched matrix product with numpy broadcasting of the leading dimensions. */
    public Value matmul(String hint, Value a, Value b) {
        Shape as = a.requireShape(), bs = b.requireShape();
        if (as.rank() < 2 || bs.rank() < 2)
            throw new IllegalArgumentException("MatMul needs rank >= 2: " + a + ", " + b);
        Shape lead = broadcast(
                "MatMul",
                Shape.of(as.dims().subList(0, as.rank() - 2)),
                Shape.of(bs.dims().subList(0, bs.rank() - 2)));
        List<Dim> dims = new ArrayList<>(lead.dims());
        dims.add(as.dim(-2));
        dims.add(bs.dim(-1));
        return single("MatMul", "", hint, List.of(a, b), a.dtype(), Shape.of(dims));
    }

    /**
     * com.microsoft FusedMatMul: MatMul of [.., M, K]-shaped operands with either one's last two axes transposed
     * inside the kernel (no Transpose node, no copy).
     */
    public Value fusedMatMul(String hint, Value a, Value b, boolean transA, boolean transB) {
        Shape as = a.requireShape(), bs = b.requireShape();
        if (as.rank() != bs.rank() || as.rank() < 2)
            throw new IllegalArgumentException("FusedMatMul needs operands of one rank >= 2: " + a + ", " + b);
        List<Dim> dims = new ArrayList<>(as.dims().subList(0, as.rank() - 2));
        dims.add(transA ? as.dim(-1) : as.dim(-2));
        dims.add(transB ? bs.dim(-2) : bs.dim(-1));
        Value out = out(hint, a.dtype(), Shape.of(dims));
        return ms(
                        MsOp.FUSED_MAT_MUL,
                        List.of(a, b),
                        List.of(out),
                        Attr.i("transA", transA ? 1 : 0),
                        Attr.i("transB", transB ? 1 : 0))
                .get(0);
    }

    public Value transpose(String hint, Value x, long... perm) {
        Shape xs = x.requireShape();
        List<Dim> dims = new ArrayList<>();
        for (long p : perm) dims.add(xs.dim((int) p));
        return single("Transpose", "", hint, List.of(x), x.dtype(), Shape.of(dims), Attr.ints("perm", perm));
    }

    // ---- reductions -----------------------------------------------------------------------------------------------

    private static Shape reduced(Shape xs, long[] axes, boolean keepdims) {
        if (xs == null) return null;
        boolean[] red = new boolean[xs.rank()];
        for (long a : axes) red[(int) (a < 0 ? a + xs.rank() : a)] = true;
        List<Dim> dims = new ArrayList<>();
        for (int i = 0; i < xs.rank(); i++) {
            if (!red[i]) dims.add(xs.dim(i));
            else if (keepdims) dims.add(Dim.of(1));
        }
        return Shape.of(dims);
    }

    public static long[] allAxes(Value x) {
        long[] a = new long[x.requireShape().rank()];
        for (int i = 0; i < a.length; i++) a[i] = i;
        return a;
    }

    /** ReduceSum (opset 13+: axes as an input). */
    public Value reduceSum(String hint, Value x, long[] axes, boolean keepdims) {
        return single(
                "ReduceSum",
                "",
                hint,
                List.of(x, g.longs(axes)),
                x.dtype(),
                reduced(x.shape(), axes, keepdims),
                Attr.i("keepdims", keepdims ? 1 : 0));
    }

    /** ReduceMean (opset 17: axes as an attribute). */
    public Value reduceMean(String hint, Value x, long[] axes, boolean keepdims) {
        return single(
                "ReduceMean",
                "",
                hint,
                List.of(x),
                x.dtype(),
                reduced(x.shape(), axes, keepdims),
                Attr.ints("axes", axes),
                Attr.i("keepdims", keepdims ? 1 : 0));
    }

    /** ReduceL2 (opset 17: axes as an attribute). */
    public Value reduceL2(String hint, Value x, long[] axes, boolean keepdims) {
        return single(
                "ReduceL2",
                "",
                hint,
                List.of(x),
                x.dtype(),
                reduced(x.shape(), axes, keepdims),
                Attr.ints("axes", axes),
                Attr.i("keepdims", keepdims ? 1 : 0));
    }

    public Value reduceProd(String hint, Value x, boolean keepdims) {
        return single(
                "ReduceProd",
                "",
                hint,
                List.of(x),
                x.dtype(),
                reduced(x.shape(), allAxes(x), keepdims),
                Attr.i("keepdims", keepdims ? 1 : 0));
    }

    // ---- shape manipulation ---------------------------------------------------------------------------------------

    /** Reshape to a constant target (0 = copy the input dimension, -1 = inferred). */
    public Value reshape(String hint, Value x, long... target) {
        Shape xs = x.shape();
        List<Dim> dims = new ArrayList<>();
        int inferAt = -1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == 0) dims.add(xs.dim(i));
            else if (target[i] == -1) {
                dims.add(null);
                inferAt = i;
            } else dims.add(Dim.of(target[i]));
        }
        if (inferAt >= 0) {
            long known = 1, total = 1;
            boolean symbolicLeft = false;
            for (int i = 0; i < xs.rank(); i++) {
                boolean copied = i < target.length && target[i] == 0;
                if (copied) continue;
                if (!xs.dim(i).isFixed()) symbolicLeft = true;
                else total *= xs.size(i);
            }
            for (int i = 0; i < target.length; i++) if (target[i] > 0) known *= target[i];
            dims.set(inferAt, symbolicLeft ? Dim.sym(x.name() + "_d" + inferAt) : Dim.of(total / known));
        }
        return single("Reshape", "", hint, List.of(x, g.longs(target)), x.dtype(), Shape.of(dims));
    }

    /** Reshape to a runtime shape tensor; {@code resultShape} is what the caller knows about the result. */
    public Value reshapeTo(String hint, Value x, Value shapeTensor, Shape resultShape) {
        return single("Reshape", "", hint, List.of(x, shapeTensor), x.dtype(), resultShape);
    }

    public Value expand(String hint, Value x, Value shapeTensor, Shape resultShape) {
        return single("Expand", "", hint, List.of(x, shapeTensor), x.dtype(), resultShape);
    }

    public Value unsqueeze(String hint, Value x, long... axes) {
        Shape xs = x.shape();
        Shape s = null;
        if (xs != null) {
            List<Dim> dims = new ArrayList<>(xs.dims());
            long[] sorted = axes.clone();
            Arrays.sort(sorted);
            for (long a : sorted) dims.add((int) a, Dim.of(1));
            s = Shape.of(dims);
        }
        return single("Unsqueeze", "", hint, List.of(x, g.longs(axes)), x.dtype(), s);
    }

    public Value shapeOf(String hint, Value x) {
        return single(
                "Shape",
                "",
                hint,
                List.of(x),
                DType.INT64,
                Shape.fixed(x.requireShape().rank()));
    }

    public Value gather(String hint, Value data, Value indices, long axis) {
        Shape s = null;
        if (data.shape() != null && indices.shape() != null) {
            List<Dim> dims = new ArrayList<>(data.shape().dims().subList(0, (int) axis));
            dims.addAll(indices.shape().dims());
            dims.addAll(data.shape().dims().subList((int) axis + 1, data.shape().rank()));
            s = Shape.of(dims);
        }
        return single("Gather", "", hint, List.of(data, indices), data.dtype(), s, Attr.i("axis", axis));
    }

    /** Slice with constant starts/ends on the given axes (steps 1). */
    public Value slice(String hint, Value x, long[] starts, long[] ends, long[] axes) {
        Shape xs = x.requireShape();
        Shape s = xs;
        for (int i = 0; i < axes.length; i++) s = s.with((int) axes[i], Dim.of(ends[i] - starts[i]));
        return single("Slice", "", hint, List.of(x, g.longs(starts), g.longs(ends), g.longs(axes)), x.dtype(), s);
    }

    /** Concat along {@code axis}; a symbolic result dimension gets {@code resultDim}. */
    public Value concat(String hint, List<Value> parts, long axis, Dim resultDim) {
        Shape s = parts.get(0).requireShape().with((int) axis, resultDim);
        return single("Concat", "", hint, parts, parts.get(0).dtype(), s, Attr.i("axis", axis));
    }

    /** Constant-zero padding; {@code pads} = [begin_0..begin_r-1, end_0..end_r-1]. */
    public Value pad(String hint, Value x, long[] pads, Shape resultShape) {
        return single("Pad", "", hint, List.of(x, g.longs(pads)), x.dtype(), resultShape, Attr.s("mode", "constant"));
    }

    public Value constantOfShape(String hint, Value shapeTensor, DType dtype, Shape resultShape) {
        return single(
                "ConstantOfShape",
                "",
                hint,
                List.of(shapeTensor),
                dtype,
                resultShape,
                Attr.tensor(
                        "value",
                        ai.onnx.proto.OnnxMl.TensorProto.newBuilder()
                                .setDataType(dtype.onnxCode)
                                .addDims(1)
                                .setRawData(com.google.protobuf.ByteString.copyFrom(new byte[dtype.bytes]))
                                .build()));
    }

    // ---- softmax family -------------------------------------------------------------------------------------------

    public Value logSoftmax(String hint, Value x, long axis) {
        return single("LogSoftmax", "", hint, List.of(x), x.dtype(), x.shape(), Attr.i("axis", axis));
    }

    public Value softmax(String hint, Value x, long axis) {
        return single("Softmax", "", hint, List.of(x), x.dtype(), x.shape(), Attr.i("axis", axis));
    }

    /** SoftmaxCrossEntropyLoss with mean reduction over the batch; returns [loss (scalar), log_prob]. */
    public List<Value> softmaxCrossEntropy(String hint, Value scores, Value labels) {
        return g.addNode(
                "SoftmaxCrossEntropyLoss",
                "",
                List.of(scores, labels),
                List.of(
                        out(hint, scores.dtype(), Shape.SCALAR),
                        out(hint + ".log_prob", scores.dtype(), scores.shape())),
                List.of(Attr.s("reduction", "mean")));
    }
}
