package org.sefonnx.generator.artifacts;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads ORT checkpoint flatbuffers (ours, and those ORT's SaveCheckpoint writes), without generated code. Used to
 * check a checkpoint against a spec before anything is overwritten, and by the tests.
 */
public final class CheckpointReader {
    private final ByteBuffer bb;
    private final String source;

    private CheckpointReader(ByteBuffer bb, String source) {
        this.bb = bb.order(ByteOrder.LITTLE_ENDIAN);
        this.source = source;
    }

    public static Checkpoint read(Path file) throws IOException {
        return read(Files.readAllBytes(file), file.toString(), true);
    }

    /** Reads everything but the tensors' values (fast for large checkpoints). */
    public static Checkpoint readHeader(Path file) throws IOException {
        return read(Files.readAllBytes(file), file.toString(), false);
    }

    public static Checkpoint read(byte[] bytes, String source, boolean withData) {
        try {
            return new CheckpointReader(ByteBuffer.wrap(bytes), source).parse(withData);
        } catch (IndexOutOfBoundsException | java.nio.BufferUnderflowException | NegativeArraySizeException e) {
            // an offset that points past the end: the file was cut short (a copy that did not finish, a full disk)
            throw new IllegalArgumentException(
                    source + ": truncated or damaged checkpoint (" + bytes.length
                            + " bytes; a table or tensor points past the end)",
                    e);
        }
    }

    /**
     * The name of the first tensor holding a NaN or an infinity, with its flat index, or null when every value is
     * finite; reads the raw data in place (no float copies of a 200 MB checkpoint).
     */
    public static String firstNonFinite(byte[] bytes, String source) {
        CheckpointReader r = new CheckpointReader(ByteBuffer.wrap(bytes), source);
        try {
            r.parse(false);
            int moduleState = r.table(r.bb.getInt(0), 1);
            if (moduleState == 0) return null;
            for (int slot = 0; slot < 2; slot++) {
                for (int t : r.tables(moduleState, slot)) {
                    int raw = r.vector(t, 4);
                    int n = raw == 0 ? 0 : r.bb.getInt(raw) / 4;
                    for (int i = 0; i < n; i++) {
                        if (!Float.isFinite(r.bb.getFloat(raw + 4 + 4 * i))) return r.string(t, 0) + "[" + i + "]";
                    }
                }
            }
            return null;
        } catch (IndexOutOfBoundsException | java.nio.BufferUnderflowException | NegativeArraySizeException e) {
            throw new IllegalArgumentException(
                    source + ": truncated or damaged checkpoint (" + bytes.length + " bytes)", e);
        }
    }

    private Checkpoint parse(boolean withData) {
        if (bb.capacity() < 8) throw fail(0, "file too short for a checkpoint");
        String id = new String(new byte[] {bb.get(4), bb.get(5), bb.get(6), bb.get(7)}, StandardCharsets.US_ASCII);
        if (!id.equals(CheckpointWriter.FILE_IDENTIFIER)) {
            // printable as it is, else as hex: an image's or a model's bytes would break the one-line message
            String shown = id.chars().allMatch(c -> c >= 0x20 && c < 0x7F)
                    ? "'" + id + "'"
                    : String.format(
                            "0x%02x%02x%02x%02x",
                            bb.get(4) & 0xFF, bb.get(5) & 0xFF, bb.get(6) & 0xFF, bb.get(7) & 0xFF);
            throw fail(4, "file identifier is " + shown + ", expected ODTC");
        }
        int root = bb.getInt(0);
        int version = field(root, 0) == 0 ? 0 : bb.getInt(field(root, 0));
        if (version != CheckpointWriter.CHECKPOINT_VERSION)
            throw fail(root, "checkpoint version " + version + ", expected " + CheckpointWriter.CHECKPOINT_VERSION);
        int moduleState = table(root, 1);
        List<Checkpoint.Tensor> trainable = new ArrayList<>(), frozen = new ArrayList<>();
        if (moduleState != 0) {
            for (int t : tables(moduleState, 0)) trainable.add(tensor(t, withData));
            for (int t : tables(moduleState, 1)) frozen.add(tensor(t, withData));
        }
        Map<String, Long> ints = new LinkedHashMap<>();
        Map<String, Float> floats = new LinkedHashMap<>();
        Map<String, String> strings = new LinkedHashMap<>();
        int bag = table(root, 3);
        if (bag != 0) {
            for (int p : tables(bag, 0)) ints.put(string(p, 0), field(p, 1) == 0 ? 0L : bb.getLong(field(p, 1)));
            for (int p : tables(bag, 1)) floats.put(string(p, 0), field(p, 1) == 0 ? 0f : bb.getFloat(field(p, 1)));
            for (int p : tables(bag, 2)) strings.put(string(p, 0), string(p, 1));
        }
        return new Checkpoint(trainable, frozen, ints, floats, strings);
    }

    private Checkpoint.Tensor tensor(int t, boolean withData) {
        String name = string(t, 0);
        int dimsVec = vector(t, 2);
        long[] dims = new long[dimsVec == 0 ? 0 : bb.getInt(dimsVec)];
        for (int i = 0; i < dims.length; i++) dims[i] = bb.getLong(dimsVec + 4 + 8 * i);
        int type = field(t, 3) == 0 ? 0 : bb.getInt(field(t, 3));
        if (type != CheckpointWriter.TENSOR_TYPE_FLOAT)
            throw fail(t, "tensor " + name + " has data type " + type + ", expected 1 (float)");
        long n = 1;
        for (long d : dims) n *= d;
        int raw = vector(t, 4);
        int rawLen = raw == 0 ? 0 : bb.getInt(raw);
        // checked before allocating: damaged dims must not turn into a multi-gigabyte array
        if (rawLen != 4 * n) throw fail(t, "tensor " + name + " has " + rawLen + " bytes of data, expected " + 4 * n);
        if (raw + 4L + rawLen > bb.capacity())
            throw fail(
                    t,
                    "tensor " + name + " ends at byte " + (raw + 4L + rawLen)
                            + ", past the end of the file (truncated)");
        float[] data = new float[(int) n];
        if (withData) {
            ByteBuffer slice = bb.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            slice.position(raw + 4);
            slice.asFloatBuffer().get(data);
        }
        return new Checkpoint.Tensor(name, dims, data);
    }

    /** Absolute position of field {@code slot} of the table at {@code table}, or 0 when absent. */
    private int field(int table, int slot) {
        int vtable = table - bb.getInt(table);
        int vtableSize = bb.getShort(vtable);
        int at = 4 + 2 * slot;
        if (at >= vtableSize) return 0;
        int off = bb.getShort(vtable + at);
        return off == 0 ? 0 : table + off;
    }

    private int table(int table, int slot) {
        int f = field(table, slot);
        return f == 0 ? 0 : f + bb.getInt(f);
    }

    private int vector(int table, int slot) {
        return table(table, slot);
    }

    private int[] tables(int table, int slot) {
        int v = vector(table, slot);
        if (v == 0) return new int[0];
        int n = bb.getInt(v);
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            int elem = v + 4 + 4 * i;
            r[i] = elem + bb.getInt(elem);
        }
        return r;
    }

    private String string(int table, int slot) {
        int s = vector(table, slot);
        if (s == 0) return null;
        int len = bb.getInt(s);
        byte[] bytes = new byte[len];
        bb.duplicate().position(s + 4).get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private IllegalArgumentException fail(int offset, String what) {
        return new IllegalArgumentException(source + " (byte " + offset + "): " + what);
    }
}
