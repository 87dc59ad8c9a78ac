package org.sefonnx.generator.onnx;

/** ONNX tensor element types used by sef-onnx, with their TensorProto.DataType codes. */
public enum DType {
    FLOAT(1, 4),
    INT64(7, 8),
    BOOL(9, 1),
    FLOAT16(10, 2),
    DOUBLE(11, 8);

    /** The TensorProto.DataType code. */
    public final int onnxCode;
    /** Bytes per element. */
    public final int bytes;

    DType(int onnxCode, int bytes) {
        this.onnxCode = onnxCode;
        this.bytes = bytes;
    }

    /** The type whose TensorProto.DataType code is {@code onnxCode} (ORT reports element types by it). */
    public static DType ofOnnxCode(int onnxCode) {
        for (DType t : values()) if (t.onnxCode == onnxCode) return t;
        throw new IllegalArgumentException("unsupported ONNX element type " + onnxCode);
    }

    public boolean isFloating() {
        return this == FLOAT || this == DOUBLE || this == FLOAT16;
    }

    /**
     * IEEE 754 binary16 bits of {@code f}, rounded to nearest even (Java 17 has no Float.floatToFloat16): the
     * encoding of FLOAT16 constants.
     */
    public static short toHalfBits(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xff;
        int mantissa = bits & 0x7fffff;
        if (exponent == 0xff) return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0)); // inf, NaN
        int e = exponent - 127 + 15;
        if (e >= 0x1f) return (short) (sign | 0x7c00); // overflow to inf
        if (e <= 0) {
            if (e < -10) return (short) sign; // underflow to ±0
            int m = mantissa | 0x800000; // subnormal
            int shift = 14 - e;
            int half = m >>> shift;
            int rest = m & ((1 << shift) - 1), halfway = 1 << (shift - 1);
            if (rest > halfway || (rest == halfway && (half & 1) == 1)) half++;
            return (short) (sign | half);
        }
        int half = (e << 10) | (mantissa >>> 13);
        int rest = mantissa & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) half++; // may carry into inf: correct
        return (short) (sign | half);
    }
}
