package org.sefonnx.generator.weights;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The weights of an ONNX model: its graph's initializers and the tensors of its Constant nodes (named by the node's
 * output), each with its shape and data type. Floating tensors (FLOAT, FLOAT16, BFLOAT16, DOUBLE) convert to
 * float32 from raw_data, float_data, int32_data (16-bit types) or double_data, or from external data files beside
 * the model (TensorProto.data_location = EXTERNAL). Sparse initializers and subgraphs are not read.
 */
public final class OnnxWeights {
    private OnnxWeights() {}

    public static Map<String, WeightsFile.Entry> read(Path model) throws IOException {
        return read(Files.readAllBytes(model), model);
    }

    /** Parses a model held in memory; {@code model} names it in errors and anchors external data files. */
    public static Map<String, WeightsFile.Entry> read(byte[] bytes, Path model) {
        ModelProto proto;
        try {
            proto = ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(
                    model + ": neither a safetensors file nor a readable ONNX model (" + e.getMessage() + ")");
        }
        if (!proto.hasGraph() || proto.getIrVersion() == 0) {
            throw new IllegalArgumentException(
                    model + ": neither a safetensors file nor an ONNX model (no graph or ir_version)");
        }
        Map<String, WeightsFile.Entry> r = new LinkedHashMap<>();
        for (TensorProto t : proto.getGraph().getInitializerList())
            r.putIfAbsent(t.getName(), entry(t, t.getName(), model));
        for (NodeProto n : proto.getGraph().getNodeList()) {
            if (!n.getOpType().equals("Constant")
                    || n.getOutputCount() != 1
                    || !n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) continue;
            for (AttributeProto a : n.getAttributeList()) {
                if (a.getName().equals("value") && a.hasT())
                    r.putIfAbsent(n.getOutput(0), entry(a.getT(), n.getOutput(0), model));
            }
        }
        return r;
    }

    private static WeightsFile.Entry entry(TensorProto t, String name, Path model) {
        long[] shape = new long[t.getDimsCount()];
        for (int i = 0; i < shape.length; i++) shape[i] = t.getDims(i);
        TensorProto.DataType type = TensorProto.DataType.forNumber(t.getDataType());
        String dtype = type == null ? "data type " + t.getDataType() : type.name();
        boolean floating = type == TensorProto.DataType.FLOAT
                || type == TensorProto.DataType.FLOAT16
                || type == TensorProto.DataType.BFLOAT16
                || type == TensorProto.DataType.DOUBLE;
        return new WeightsFile.Entry(name, shape, dtype, floating, () -> floats(t, name, shape, type, model));
    }

    /**
     * The values of a floating-point initializer as float32 (raw or typed data, or external data next to
     * {@code model}); another element type is refused naming the tensor.
     */
    public static float[] floats(TensorProto t, Path model) {
        long[] shape = new long[t.getDimsCount()];
        for (int i = 0; i < shape.length; i++) shape[i] = t.getDims(i);
        TensorProto.DataType type = TensorProto.DataType.forNumber(t.getDataType());
        if (type == null)
            throw new IllegalArgumentException(
                    model + ": tensor '" + t.getName() + "' has data type " + t.getDataType());
        return floats(t, t.getName(), shape, type, model);
    }

    static float[] floats(TensorProto t, String name, long[] shape, TensorProto.DataType type, Path model) {
        long numel = 1;
        for (long d : shape) numel *= d;
        int n = Math.toIntExact(numel);
        String where = model + ": tensor '" + name + "'";
        int width = switch (type) {
            case FLOAT -> 4;
            case DOUBLE -> 8;
            case FLOAT16, BFLOAT16 -> 2;
            default ->
                throw new IllegalArgumentException(
                        where + " has type " + type + ", expected FLOAT, FLOAT16, BFLOAT16 or DOUBLE");
        };
        ByteBuffer raw = null;
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) raw = external(t, where, model, (long) n * width);
        else if (!t.getRawData().isEmpty()) raw = t.getRawData().asReadOnlyByteBuffer();
        float[] r = new float[n];
        if (raw != null) {
            raw = raw.order(ByteOrder.LITTLE_ENDIAN);
            if (raw.remaining() != (long) n * width) {
                throw new IllegalArgumentException(where + ": " + raw.remaining() + " bytes of data, expected "
                        + (long) n * width + " for " + type + " " + java.util.Arrays.toString(shape));
            }
            int p = raw.position();
            for (int i = 0; i < n; i++) {
                r[i] = switch (type) {
                    case FLOAT -> raw.getFloat(p + 4 * i);
                    case DOUBLE -> (float) raw.getDouble(p + 8 * i);
                    case FLOAT16 -> SafeTensors.halfToFloat(raw.getShort(p + 2 * i));
                    default -> Float.intBitsToFloat((raw.getShort(p + 2 * i) & 0xffff) << 16);
                };
            }
            return r;
        }
        int count = switch (type) {
            case FLOAT -> t.getFloatDataCount();
            case DOUBLE -> t.getDoubleDataCount();
            default -> t.getInt32DataCount();
        };
        if (count != n)
            throw new IllegalArgumentException(
                    where + ": " + count + " values, expected " + n + " for shape " + java.util.Arrays.toString(shape));
        for (int i = 0; i < n; i++) {
            r[i] = switch (type) {
                case FLOAT -> t.getFloatData(i);
                case DOUBLE -> (float) t.getDoubleData(i);
                // 16-bit values sit in the low bits of int32_data (onnx.proto)
                case FLOAT16 -> SafeTensors.halfToFloat((short) t.getInt32Data(i));
                default -> Float.intBitsToFloat((t.getInt32Data(i) & 0xffff) << 16);
            };
        }
        return r;
    }

    /** Reads external data: the "location" file relative to the model's folder, at "offset" for "length" bytes. */
    private static ByteBuffer external(TensorProto t, String where, Path model, long expectedBytes) {
        String location = null;
        long offset = 0, length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            try {
                switch (e.getKey()) {
                    case "location" -> location = e.getValue();
                    case "offset" -> offset = Long.parseLong(e.getValue());
                    case "length" -> length = Long.parseLong(e.getValue());
                    default -> {}
                }
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException(
                        where + ": external data " + e.getKey() + " '" + e.getValue() + "' is not a number");
            }
        }
        if (location == null) throw new IllegalArgumentException(where + ": external data without a location");
        Path dir = model.toAbsolutePath().getParent();
        Path file = dir.resolve(location).normalize();
        if (length < 0) length = expectedBytes;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (offset < 0 || offset + length > ch.size()) {
                throw new IllegalArgumentException(where + ": external data " + file + " has " + ch.size()
                        + " bytes, the tensor needs bytes " + offset + ".." + (offset + length) + " (truncated?)");
            }
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(length));
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) < 0) break;
            }
            return b.flip();
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    where + ": cannot read its external data file " + file + " (" + e.getMessage() + ")");
        }
    }

    /** Raw bytes of a float32 array, little-endian: an ONNX initializer's raw_data. */
    public static ByteString rawFloats(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return ByteString.copyFrom(b);
    }
}
