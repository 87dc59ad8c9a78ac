package org.sefonnx.generator.artifacts;

import com.google.flatbuffers.FlatBufferBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.sefonnx.contract.AtomicFiles;

/**
 * Writes ORT's checkpoint flatbuffer (onnxruntime/core/flatbuffers/schema/ort_training_checkpoint.fbs) with the
 * plain flatbuffers-java runtime, no flatc: field slot i of a table lives at vtable offset 4 + 2·i, in the schema's
 * declaration order.
 */
public final class CheckpointWriter {
    /** ORT 1.24.1 accepts exactly version 2 (measured: 1 and 3 are refused). */
    public static final int CHECKPOINT_VERSION = 2;
    /** The flatbuffer's file identifier (the schema's file_identifier). */
    public static final String FILE_IDENTIFIER = "ODTC";
    /** The schema's TensorDataType of float32 tensors, the only type our checkpoints hold. */
    static final int TENSOR_TYPE_FLOAT = 1;

    private CheckpointWriter() {}

    public static byte[] toBytes(Checkpoint ck) {
        long payload = 0;
        for (Checkpoint.Tensor t : ck.trainable()) payload += 4L * t.data().length + 256;
        for (Checkpoint.Tensor t : ck.frozen()) payload += 4L * t.data().length + 256;
        if (payload > Integer.MAX_VALUE - (64 << 20))
            throw new IllegalArgumentException("checkpoint over 2 GiB: flatbuffers cannot address it");
        FlatBufferBuilder b = new FlatBufferBuilder((int) payload + (1 << 16));

        int trainable = tensorVector(b, ck.trainable());
        int frozen = tensorVector(b, ck.frozen()); // must be present even when empty: the loader rejects a null vector
        // table ModuleState { requires_grad_params:[Tensor]; frozen_params:[Tensor]; is_nominal_state:bool; }
        b.startTable(3);
        b.addOffset(0, trainable, 0);
        b.addOffset(1, frozen, 0);
        b.addBoolean(2, false, false);
        int moduleState = b.endTable();

        int bag = propertyBag(b, ck.intProperties(), ck.floatProperties(), ck.stringProperties());

        // table Checkpoint { version:int32; module_state:ModuleState; optimizer_groups:[OptimizerGroup];
        // property_bag:PropertyBag; }
        // no optimizer group: ORT starts the optimizer state at zero, which is what a fresh run wants
        b.startTable(4);
        b.addInt(0, CHECKPOINT_VERSION, 0);
        b.addOffset(1, moduleState, 0);
        b.addOffset(3, bag, 0);
        b.finish(b.endTable(), FILE_IDENTIFIER);
        return b.sizedByteArray();
    }

    public static void write(Checkpoint ck, Path file) throws IOException {
        AtomicFiles.write(file, toBytes(ck));
    }

    // table Tensor { name:string; doc_string:string; dims:[int64]; data_type:int32; raw_data:[uint8]; ... }
    private static int tensor(FlatBufferBuilder b, Checkpoint.Tensor t) {
        int name = b.createString(t.name());
        b.startVector(8, t.dims().length, 8);
        for (int i = t.dims().length - 1; i >= 0; i--) b.addLong(t.dims()[i]);
        int dims = b.endVector();
        ByteBuffer raw = ByteBuffer.allocate(t.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(t.data());
        int rawData = b.createByteVector(raw);
        b.startTable(7);
        b.addOffset(0, name, 0);
        b.addOffset(2, dims, 0);
        b.addInt(3, TENSOR_TYPE_FLOAT, 0);
        b.addOffset(4, rawData, 0);
        return b.endTable();
    }

    private static int tensorVector(FlatBufferBuilder b, List<Checkpoint.Tensor> ts) {
        int[] offsets = new int[ts.size()];
        for (int i = 0; i < offsets.length; i++) offsets[i] = tensor(b, ts.get(i));
        return b.createVectorOfTables(offsets);
    }

    // table PropertyBag { ints:[IntProperty]; floats:[FloatProperty]; strings:[StringProperty]; }
    private static int propertyBag(
            FlatBufferBuilder b, Map<String, Long> ints, Map<String, Float> floats, Map<String, String> strings) {
        int[] i = new int[ints.size()], f = new int[floats.size()], s = new int[strings.size()];
        int k = 0;
        for (var e : ints.entrySet()) {
            int n = b.createString(e.getKey());
            b.startTable(2);
            b.addOffset(0, n, 0);
            b.addLong(1, e.getValue(), 0L);
            i[k++] = b.endTable();
        }
        k = 0;
        for (var e : floats.entrySet()) {
            int n = b.createString(e.getKey());
            b.startTable(2);
            b.addOffset(0, n, 0);
            b.addFloat(1, e.getValue(), 0f);
            f[k++] = b.endTable();
        }
        k = 0;
        for (var e : strings.entrySet()) {
            int n = b.createString(e.getKey());
            int v = b.createString(e.getValue());
            b.startTable(2);
            b.addOffset(0, n, 0);
            b.addOffset(1, v, 0);
            s[k++] = b.endTable();
        }
        int iv = b.createVectorOfTables(i), fv = b.createVectorOfTables(f), sv = b.createVectorOfTables(s);
        b.startTable(3);
        b.addOffset(0, iv, 0);
        b.addOffset(1, fv, 0);
        b.addOffset(2, sv, 0);
        return b.endTable();
    }
}
