package org.sefonnx.train.ort;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import org.sefonnx.generator.onnx.DType;

/**
 * A tensor in host memory, in a direct native-order buffer so that ORT can read it in place (no copy on the way in).
 * Its element type is the generator's {@link DType}: the graphs are built with those types and ORT reports the same
 * ONNX codes back.
 */
public final class HostTensor {
    private final DType type;
    private final long[] shape;
    private final ByteBuffer data;
    /** Set instead of {@code data} when the tensor views a caller's direct float buffer (a loader batch). */
    private final FloatBuffer floats;

    private HostTensor(DType type, long[] shape, FloatBuffer floats) {
        if (!floats.isDirect()) throw new IllegalArgumentException("HostTensor needs a direct buffer");
        if (floats.order() != ByteOrder.nativeOrder())
            throw new IllegalArgumentException("HostTensor needs a native-order buffer");
        if (floats.remaining() < numel(shape)) {
            throw new IllegalArgumentException(
                    "buffer of " + floats.remaining() + " floats too small for " + Arrays.toString(shape));
        }
        this.type = type;
        this.shape = shape.clone();
        this.data = null;
        this.floats = floats;
    }

    /** Views a direct native-order float buffer (from its position) without copying: ORT reads it in place. */
    public static HostTensor view(FloatBuffer direct, long... shape) {
        return new HostTensor(DType.FLOAT, shape, direct.slice());
    }

    private HostTensor(DType type, long[] shape, ByteBuffer data) {
        long n = numel(shape);
        if (data.capacity() < n * type.bytes) {
            throw new IllegalArgumentException(
                    "buffer of " + data.capacity() + " bytes too small for " + type + Arrays.toString(shape));
        }
        this.type = type;
        this.shape = shape.clone();
        this.data = data;
        this.floats = null;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    static ByteBuffer allocate(long bytes) {
        return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
    }

    public static HostTensor of(DType type, long[] shape, ByteBuffer direct) {
        if (!direct.isDirect()) throw new IllegalArgumentException("HostTensor needs a direct buffer");
        return new HostTensor(type, shape, direct.order(ByteOrder.nativeOrder()));
    }

    public static HostTensor floats(float[] values, long... shape) {
        ByteBuffer b = allocate(4L * values.length);
        b.asFloatBuffer().put(values);
        return new HostTensor(DType.FLOAT, shape, b);
    }

    public static HostTensor doubles(double[] values, long... shape) {
        ByteBuffer b = allocate(8L * values.length);
        b.asDoubleBuffer().put(values);
        return new HostTensor(DType.DOUBLE, shape, b);
    }

    /** Values as doubles, from a float or double tensor. */
    public double[] toDoubles() {
        double[] r = new double[Math.toIntExact(numel())];
        if (type == DType.DOUBLE) {
            buffer().asDoubleBuffer().get(r);
        } else {
            FloatBuffer f = floatView();
            for (int i = 0; i < r.length; i++) r[i] = f.get(i);
        }
        return r;
    }

    public static HostTensor longs(long[] values, long... shape) {
        ByteBuffer b = allocate(8L * values.length);
        b.asLongBuffer().put(values);
        return new HostTensor(DType.INT64, shape, b);
    }

    public DType type() {
        return type;
    }

    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return numel(shape);
    }
    /** The backing direct buffer (position 0); a view of a float buffer has none (see {@link #directBuffer()}). */
    public ByteBuffer buffer() {
        if (data == null) throw new IllegalStateException("tensor views a float buffer");
        return data.duplicate().order(ByteOrder.nativeOrder()).rewind();
    }

    /** The direct buffer ORT reads: bytes or floats. */
    java.nio.Buffer directBuffer() {
        return data != null ? buffer() : floats.duplicate();
    }

    long byteSize() {
        return numel() * type.bytes;
    }

    public FloatBuffer floatView() {
        requireType(DType.FLOAT);
        return data == null ? floats.duplicate() : buffer().asFloatBuffer();
    }

    public float[] toFloats() {
        float[] r = new float[Math.toIntExact(numel())];
        floatView().get(r);
        return r;
    }

    public long[] toLongs() {
        requireType(DType.INT64);
        long[] r = new long[Math.toIntExact(numel())];
        LongBuffer lb = buffer().asLongBuffer();
        lb.get(r);
        return r;
    }

    /** The single value of a one-element float tensor (a loss). */
    public float scalar() {
        if (numel() != 1) throw new IllegalStateException("not a scalar: " + Arrays.toString(shape));
        return floatView().get(0);
    }

    /** The single value of a one-element BOOL tensor (mixed precision's all-gradients-finite flag). */
    public boolean flag() {
        requireType(DType.BOOL);
        if (numel() != 1) throw new IllegalStateException("not a scalar: " + Arrays.toString(shape));
        return buffer().get(0) != 0;
    }

    private void requireType(DType t) {
        if (type != t) throw new IllegalStateException("tensor is " + type + ", not " + t);
    }

    @Override
    public String toString() {
        return type + Arrays.toString(shape);
    }
}
