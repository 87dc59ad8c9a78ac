package org.sefonnx.generator.onnx;

/** ONNX tensor element types used by sef-onnx, with their TensorProto.DataType codes. */
public enum DType {
    FLOAT(1, 4), INT64(7, 8), BOOL(9, 1), DOUBLE(11, 8);

    /** The TensorProto.DataType code. */
    public final int onnxCode;
    /** Bytes per element. */
    public final int bytes;

    DType(int onnxCode, int bytes) {
        this.onnxCode = onnxCode;
        this.bytes = bytes;
    }

    public boolean isFloating() {
        return this == FLOAT || this == DOUBLE;
    }
}
