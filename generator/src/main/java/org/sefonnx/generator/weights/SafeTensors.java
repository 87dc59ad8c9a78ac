package org.sefonnx.generator.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sefonnx.contract.AtomicFiles;

/**
 * The safetensors format (huggingface/safetensors, docs "Format"): an 8-byte little-endian header length N, N bytes
 * of UTF-8 JSON mapping each tensor name to {@code dtype}, {@code shape} and {@code data_offsets} [begin, end) into
 * the byte buffer that follows (plus an optional {@code __metadata__} object of strings), then the little-endian
 * row-major data. The reader validates what the reference implementation validates (offsets cover the buffer
 * exactly, lengths match shape x dtype); the writer lays files out as the reference does.
 */
public final class SafeTensors {
    /** Header key of the free-form string-to-string metadata. */
    public static final String METADATA_KEY = "__metadata__";
    /** The reference implementation refuses larger headers (MAX_HEADER_SIZE, 100 MB). */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Java arrays (and so files read whole) stop short of 2 GiB. */
    private static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8L;
    /** Header length is padded with spaces to a multiple of this, so the data buffer starts 8-byte aligned. */
    static final int ALIGNMENT = 8;

    /** Element types of the format (those of a fixed whole number of bytes). */
    public enum DType {
        BOOL(1),
        U8(1),
        I8(1),
        F8_E5M2(1),
        F8_E4M3(1),
        I16(2),
        U16(2),
        F16(2),
        BF16(2),
        I32(4),
        U32(4),
        F32(4),
        F64(8),
        I64(8),
        U64(8);

        public final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        boolean floating() {
            return this == F16 || this == BF16 || this == F32 || this == F64;
        }
    }

    /** One tensor: its little-endian row-major bytes, never copied on read. */
    public record Tensor(String name, DType dtype, long[] shape, ByteBuffer data) {
        public Tensor {
            shape = shape.clone();
            long need = byteSize(dtype, shape, name);
            if (data.remaining() != need) {
                throw new IllegalArgumentException("tensor " + name + ": " + dtype + " " + Arrays.toString(shape)
                        + " needs " + need + " bytes, got " + data.remaining());
            }
            data = data.slice()
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .asReadOnlyBuffer()
                    .order(ByteOrder.LITTLE_ENDIAN);
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public ByteBuffer data() {
            return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }

        public long numel() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        public static Tensor f32(String name, float[] values, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            return new Tensor(name, DType.F32, shape, b);
        }

        public static Tensor f64(String name, double[] values, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asDoubleBuffer().put(values);
            return new Tensor(name, DType.F64, shape, b);
        }

        public static Tensor i64(String name, long[] values, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(values);
            return new Tensor(name, DType.I64, shape, b);
        }

        /** The values as float32: F32 as is, F16 and BF16 widened exactly, F64 rounded to nearest. */
        public float[] toFloats() {
            int n = Math.toIntExact(numel());
            float[] r = new float[n];
            ByteBuffer b = data();
            switch (dtype) {
                case F32 -> b.asFloatBuffer().get(r);
                case F64 -> {
                    for (int i = 0; i < n; i++) r[i] = (float) b.getDouble(8 * i);
                }
                case F16 -> {
                    for (int i = 0; i < n; i++) r[i] = halfToFloat(b.getShort(2 * i));
                }
                case BF16 -> {
                    for (int i = 0; i < n; i++) r[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
                }
                default -> throw notFloating();
            }
            return r;
        }

        /** The values as float64 (every floating dtype converts exactly). */
        public double[] toDoubles() {
            int n = Math.toIntExact(numel());
            double[] r = new double[n];
            if (dtype == DType.F64) {
                data().asDoubleBuffer().get(r);
                return r;
            }
            float[] f = toFloats();
            for (int i = 0; i < n; i++) r[i] = f[i];
            return r;
        }

        /** The values of an integer or BOOL tensor as longs (U64 above 2^63 − 1 wraps, as Java's long does). */
        public long[] toLongs() {
            int n = Math.toIntExact(numel());
            long[] r = new long[n];
            ByteBuffer b = data();
            for (int i = 0; i < n; i++) {
                r[i] = switch (dtype) {
                    case I64, U64 -> b.getLong(8 * i);
                    case I32 -> b.getInt(4 * i);
                    case U32 -> b.getInt(4 * i) & 0xffffffffL;
                    case I16 -> b.getShort(2 * i);
                    case U16 -> b.getShort(2 * i) & 0xffff;
                    case I8 -> b.get(i);
                    case U8, BOOL -> b.get(i) & 0xff;
                    default ->
                        throw new IllegalArgumentException(
                                "tensor " + name + " has dtype " + dtype + ", expected an integer type");
                };
            }
            return r;
        }

        private IllegalArgumentException notFloating() {
            return new IllegalArgumentException(
                    "tensor " + name + " has dtype " + dtype + ", expected F32, F16, BF16 or F64");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tensor t
                    && t.name.equals(name)
                    && t.dtype == dtype
                    && Arrays.equals(t.shape, shape)
                    && t.data.equals(data);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape);
        }
    }

    /** A read file: its tensors in header order, and its metadata. */
    public record Contents(String source, Map<String, Tensor> tensors, Map<String, String> metadata) {
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }

        /** The tensor called {@code name}; an error naming the file when there is none. */
        public Tensor tensor(String name) {
            Tensor t = tensors.get(name);
            if (t == null)
                throw new IllegalArgumentException(
                        source + ": no tensor '" + name + "' (the file has " + tensors.size() + " tensors)");
            return t;
        }
    }

    private SafeTensors() {}

    // ---- reading ------------------------------------------------------------------------------------------------

    public static Contents read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES)
            throw new IllegalArgumentException(file + ": " + size + " bytes; files over 2 GiB are not supported");
        return read(Files.readAllBytes(file), file.toString());
    }

    /** Parses a whole file held in memory; {@code source} names it in every error message. */
    public static Contents read(byte[] bytes, String source) {
        ByteBuffer all = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 8)
            throw fail(
                    source,
                    "file is " + bytes.length + " bytes, too short for the 8-byte header length of a safetensors file");
        long headerLength = all.getLong(0);
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw fail(
                    source,
                    "header length field is " + Long.toUnsignedString(headerLength) + ", expected at most "
                            + MAX_HEADER_BYTES + " (not a safetensors file?)");
        }
        if (headerLength > bytes.length - 8L) {
            throw fail(
                    source,
                    "header length field is " + headerLength + " but only " + (bytes.length - 8L)
                            + " bytes follow it (truncated, or not a safetensors file)");
        }
        String header;
        try {
            header = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 8, (int) headerLength))
                    .toString();
        } catch (CharacterCodingException e) {
            throw fail(source, "header is not valid UTF-8");
        }
        if (!header.startsWith("{")) throw fail(source, "header does not start with '{' (not a safetensors file?)");
        if (!(Json.parse(header, source) instanceof Map<?, ?> root)) throw fail(source, "header is not a JSON object");

        int dataStart = 8 + (int) headerLength;
        long bufferLength = bytes.length - (long) dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, long[]> offsets = new LinkedHashMap<>();
        Map<String, DType> dtypes = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : root.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                if (!(e.getValue() instanceof Map<?, ?> m))
                    throw fail(source, METADATA_KEY + " must be an object of strings");
                for (Map.Entry<?, ?> me : m.entrySet()) {
                    if (!(me.getValue() instanceof String s))
                        throw fail(
                                source, METADATA_KEY + "." + me.getKey() + " must be a string, got " + me.getValue());
                    metadata.put((String) me.getKey(), s);
                }
                continue;
            }
            if (!(e.getValue() instanceof Map<?, ?> info))
                throw fail(source, "tensor '" + name + "': expected an object with dtype, shape and data_offsets");
            DType dtype = dtype(info.get("dtype"), source, name);
            long[] shape = longs(info.get("shape"), -1, source, name, "shape");
            long[] span = longs(info.get("data_offsets"), 2, source, name, "data_offsets");
            long need;
            try {
                need = byteSize(dtype, shape, name);
            } catch (IllegalArgumentException ex) {
                throw fail(source, ex.getMessage());
            }
            if (span[1] < span[0])
                throw fail(
                        source,
                        "tensor '" + name + "': data_offsets " + Arrays.toString(span) + " end before they begin");
            if (span[1] > bufferLength) {
                throw fail(
                        source,
                        "tensor '" + name + "': data_offsets " + Arrays.toString(span) + " run past the " + bufferLength
                                + "-byte data buffer (the file is truncated)");
            }
            if (span[1] - span[0] != need) {
                throw fail(
                        source,
                        "tensor '" + name + "': " + dtype + " " + Arrays.toString(shape) + " needs " + need
                                + " bytes, data_offsets " + Arrays.toString(span) + " span " + (span[1] - span[0]));
            }
            offsets.put(name, span);
            dtypes.put(name, dtype);
            shapes.put(name, shape);
        }
        // the reference implementation's validate(): in offset order each tensor starts where the last one ended,
        // and the last one ends at the end of the file
        List<String> byOffset = new ArrayList<>(offsets.keySet());
        byOffset.sort(
                Comparator.comparingLong((String n) -> offsets.get(n)[0]).thenComparingLong(n -> offsets.get(n)[1]));
        long expectedStart = 0;
        for (String name : byOffset) {
            long[] span = offsets.get(name);
            if (span[0] != expectedStart) {
                throw fail(
                        source,
                        "tensor '" + name + "' starts at data byte " + span[0] + ", expected " + expectedStart
                                + " (tensors must cover the data buffer without holes or overlaps)");
            }
            expectedStart = span[1];
        }
        if (expectedStart != bufferLength) {
            throw fail(
                    source,
                    "tensors cover " + expectedStart + " bytes but the data buffer has " + bufferLength
                            + " (trailing bytes after the last tensor)");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (String name : offsets.keySet()) {
            long[] span = offsets.get(name);
            ByteBuffer slice = ByteBuffer.wrap(bytes, dataStart + (int) span[0], (int) (span[1] - span[0]));
            tensors.put(name, new Tensor(name, dtypes.get(name), shapes.get(name), slice));
        }
        return new Contents(source, tensors, metadata);
    }

    private static DType dtype(Object v, String source, String name) {
        if (!(v instanceof String s)) throw fail(source, "tensor '" + name + "': dtype must be a string, got " + v);
        try {
            return DType.valueOf(s);
        } catch (IllegalArgumentException e) {
            throw fail(
                    source,
                    "tensor '" + name + "': dtype " + s + " is not supported (expected one of "
                            + Arrays.toString(DType.values()) + ")");
        }
    }

    private static long[] longs(Object v, int expectedLength, String source, String name, String field) {
        if (!(v instanceof List<?> list))
            throw fail(source, "tensor '" + name + "': " + field + " must be an array of integers, got " + v);
        if (expectedLength >= 0 && list.size() != expectedLength) {
            throw fail(
                    source,
                    "tensor '" + name + "': " + field + " must have " + expectedLength + " entries, got "
                            + list.size());
        }
        long[] r = new long[list.size()];
        for (int i = 0; i < r.length; i++) {
            if (!(list.get(i) instanceof Long l) || l < 0)
                throw fail(source, "tensor '" + name + "': " + field + " must hold non-negative integers, got " + list);
            r[i] = l;
        }
        return r;
    }

    static long byteSize(DType dtype, long[] shape, String name) {
        long n = dtype.bytes;
        try {
            for (long d : shape) {
                if (d < 0)
                    throw new IllegalArgumentException(
                            "tensor " + name + ": negative dimension in " + Arrays.toString(shape));
                n = Math.multiplyExact(n, d);
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " overflows");
        }
        return n;
    }

    private static IllegalArgumentException fail(String source, String what) {
        return new IllegalArgumentException(source + ": " + what);
    }

    /** IEEE 754 binary16 to float32 (exact; Float.float16ToFloat arrived only in Java 20). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = h >>> 15, exponent = (h >>> 10) & 0x1f, mantissa = h & 0x3ff;
        float v;
        if (exponent == 0) v = mantissa * 0x1p-24f;
        else if (exponent == 0x1f) v = mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        else v = Float.intBitsToFloat(((exponent - 15 + 127) << 23) | (mantissa << 13));
        return sign == 1 ? -v : v;
    }

    // ---- writing ------------------------------------------------------------------------------------------------

    /**
     * The file's bytes: header keys in sorted order, header padded with spaces to a multiple of 8 bytes, data laid
     * out as the reference writer does (larger element types first, then by name) so every tensor is aligned to its
     * element size.
     */
    public static byte[] toBytes(Collection<Tensor> tensors, Map<String, String> metadata) {
        Map<String, Tensor> byName = new TreeMap<>();
        for (Tensor t : tensors) {
            if (t.name().isEmpty() || t.name().equals(METADATA_KEY))
                throw new IllegalArgumentException("tensor name '" + t.name() + "' is reserved or empty");
            if (byName.put(t.name(), t) != null)
                throw new IllegalArgumentException("two tensors are named " + t.name());
        }
        List<Tensor> layout = new ArrayList<>(byName.values());
        layout.sort(Comparator.comparingInt((Tensor t) -> -t.dtype().bytes).thenComparing(Tensor::name));
        Map<String, long[]> offsets = new TreeMap<>();
        long at = 0;
        for (Tensor t : layout) {
            long size = t.data.remaining();
            offsets.put(t.name(), new long[] {at, at + size});
            at += size;
        }
        Map<String, String> json = new TreeMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            StringBuilder m = new StringBuilder("{");
            for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
                if (m.length() > 1) m.append(',');
                m.append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
            }
            json.put(METADATA_KEY, m.append('}').toString());
        }
        for (Tensor t : byName.values()) {
            StringBuilder s =
                    new StringBuilder("{\"dtype\":\"").append(t.dtype().name()).append("\",\"shape\":[");
            long[] shape = t.shape;
            for (int i = 0; i < shape.length; i++) s.append(i == 0 ? "" : ",").append(shape[i]);
            long[] span = offsets.get(t.name());
            json.put(
                    t.name(),
                    s.append("],\"data_offsets\":[")
                            .append(span[0])
                            .append(',')
                            .append(span[1])
                            .append("]}")
                            .toString());
        }
        StringBuilder header = new StringBuilder("{");
        for (Map.Entry<String, String> e : json.entrySet()) {
            if (header.length() > 1) header.append(',');
            header.append(Json.quote(e.getKey())).append(':').append(e.getValue());
        }
        header.append('}');
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        long total = 8L + padded + at;
        if (total > MAX_FILE_BYTES)
            throw new IllegalArgumentException("safetensors file of " + total + " bytes: over 2 GiB is not supported");
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded);
        out.put(headerBytes);
        for (int i = headerBytes.length; i < padded; i++) out.put((byte) ' ');
        for (Tensor t : layout) out.put(t.data());
        return out.array();
    }

    public static void write(Path file, Collection<Tensor> tensors, Map<String, String> metadata) throws IOException {
        AtomicFiles.write(file, toBytes(tensors, metadata));
    }
}
