package org.sefonnx.generator.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    /**
     * Bytes laid out by hand from the format description, not by our writer: keys in no particular order, the
     * metadata between two tensors, whitespace in the JSON, a unicode escape in a name, data in an order unlike the
     * header's, and space padding. The F16 and BF16 bit patterns have known values.
     */
    static byte[] handBuiltFile() {
        String header = "{ \"zz.half\": {\"dtype\": \"F16\", \"shape\": [2, 3], \"data_offsets\": [8, 20]},\n"
                + "  \"__metadata__\": {\"source\": \"hand-built\", \"note\": \"a \\\"quoted\\\" value\"},\n"
                + "  \"aa.bf16\": {\"shape\": [5], \"dtype\": \"BF16\", \"data_offsets\": [20, 30]},\n"
                + "  \"caf\\u00e9.f32\": {\"data_offsets\": [30, 34], \"dtype\": \"F32\", \"shape\": []},\n"
                + "  \"mm.i64\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [0, 8]} }";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + 34).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(h);
        while (b.position() < 8 + padded) b.put((byte) ' ');
        b.putLong(-7L);
        // F16: 1, -2, 0.5, 65504 (largest), 2^-24 (smallest subnormal), 0x3555 = 1365/4096
        for (int bits : new int[] {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x3555}) b.putShort((short) bits);
        // BF16: 1, -3, 0x4049 = 3.140625, -0, 2^-126·(1 + 1/128)
        for (int bits : new int[] {0x3F80, 0xC040, 0x4049, 0x8000, 0x0081}) b.putShort((short) bits);
        b.putFloat(42.5f);
        return b.array();
    }

    @Test
    void handBuiltFileWithUnsortedHeaderAndHalfPrecisionReadsKnownValues() {
        SafeTensors.Contents c = SafeTensors.read(handBuiltFile(), "hand-built.safetensors");
        assertEquals(
                List.of("zz.half", "aa.bf16", "café.f32", "mm.i64"),
                List.copyOf(c.tensors().keySet()));
        assertEquals(Map.of("source", "hand-built", "note", "a \"quoted\" value"), c.metadata());

        SafeTensors.Tensor half = c.tensor("zz.half");
        assertEquals(SafeTensors.DType.F16, half.dtype());
        assertArrayEquals(new long[] {2, 3}, half.shape());
        assertArrayEquals(new float[] {1f, -2f, 0.5f, 65504f, 0x1p-24f, 1365f / 4096f}, half.toFloats());

        SafeTensors.Tensor bf16 = c.tensor("aa.bf16");
        float[] bf = bf16.toFloats();
        assertArrayEquals(new float[] {1f, -3f, 3.140625f, -0f, 0x1.02p-126f}, bf);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(bf[3]), "BF16 keeps the sign of zero");

        SafeTensors.Tensor scalar = c.tensor("café.f32");
        assertArrayEquals(new long[0], scalar.shape());
        assertArrayEquals(new float[] {42.5f}, scalar.toFloats());
        assertArrayEquals(new double[] {42.5}, scalar.toDoubles());
        assertArrayEquals(new long[] {-7}, c.tensor("mm.i64").toLongs());

        var e = assertThrows(
                IllegalArgumentException.class, () -> c.tensor("mm.i64").toFloats());
        assertTrue(e.getMessage().contains("mm.i64") && e.getMessage().contains("I64"), e.getMessage());
    }

    @Test
    void halfPrecisionConversionCoversInfinityAndNaN() {
        assertEquals(Float.POSITIVE_INFINITY, SafeTensors.halfToFloat((short) 0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, SafeTensors.halfToFloat((short) 0xFC00));
        assertTrue(Float.isNaN(SafeTensors.halfToFloat((short) 0x7E00)));
        assertEquals(0x1p-14f, SafeTensors.halfToFloat((short) 0x0400), "smallest normal");
        assertEquals(0x3FFp-24f, SafeTensors.halfToFloat((short) 0x03FF), "largest subnormal");
    }

    @Test
    void writerSortsHeaderKeysPadsWithSpacesAndAlignsEveryTensor() throws Exception {
        List<SafeTensors.Tensor> tensors = List.of(
                SafeTensors.Tensor.f32("b.odd", new float[] {1, 2, 3}, 3),
                SafeTensors.Tensor.i64("a.count", new long[] {5, -6}, 2),
                SafeTensors.Tensor.f64("c.precise", new double[] {Math.PI}, 1, 1),
                SafeTensors.Tensor.f32("A.scalar", new float[] {-1.5f}));
        Path file = dir.resolve("w.safetensors");
        SafeTensors.write(file, tensors, Map.of("zeta", "last", "alpha", "first"));
        byte[] bytes = Files.readAllBytes(file);

        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header length is a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String json = header.substring(0, header.lastIndexOf('}') + 1);
        assertTrue(
                header.substring(json.length()).chars().allMatch(ch -> ch == ' '),
                "padding is spaces: '" + header + "'");
        int a = header.indexOf("\"A.scalar\""),
                md = header.indexOf("\"__metadata__\""),
                ac = header.indexOf("\"a.count\""),
                bo = header.indexOf("\"b.odd\""),
                cp = header.indexOf("\"c.precise\"");
        assertTrue(a < md && md < ac && ac < bo && bo < cp, "keys sorted: " + header);
        assertTrue(header.indexOf("\"alpha\"") < header.indexOf("\"zeta\""), "metadata keys sorted");

        SafeTensors.Contents c = SafeTensors.read(file);
        for (SafeTensors.Tensor t : tensors) assertEquals(t, c.tensor(t.name()));
        assertEquals(Map.of("zeta", "last", "alpha", "first"), c.metadata());
        // 8-byte types first, so every tensor starts at a multiple of its element size
        Map<?, ?> parsed = (Map<?, ?>) Json.parse(json, "header");
        for (SafeTensors.Tensor t : c.tensors().values()) {
            long start = (Long) ((List<?>) ((Map<?, ?>) parsed.get(t.name())).get("data_offsets")).get(0);
            assertEquals(0, start % t.dtype().bytes, t.name() + " starts at data byte " + start);
        }
        assertArrayEquals(new long[] {5, -6}, c.tensor("a.count").toLongs());
        assertArrayEquals(new double[] {Math.PI}, c.tensor("c.precise").toDoubles());
        assertArrayEquals(new float[] {(float) Math.PI}, c.tensor("c.precise").toFloats());
    }

    @Test
    void writerIsDeterministicAndRefusesDuplicateNames() {
        List<SafeTensors.Tensor> t = List.of(
                SafeTensors.Tensor.f32("x", new float[] {1}, 1), SafeTensors.Tensor.f32("y", new float[] {2}, 1));
        assertArrayEquals(SafeTensors.toBytes(t, Map.of()), SafeTensors.toBytes(List.of(t.get(1), t.get(0)), Map.of()));
        var e = assertThrows(
                IllegalArgumentException.class, () -> SafeTensors.toBytes(List.of(t.get(0), t.get(0)), Map.of()));
        assertTrue(e.getMessage().contains("x"), e.getMessage());
    }

    @Test
    void truncatedFileFailsNamingTheFileAndTheTensor() throws Exception {
        byte[] whole =
                SafeTensors.toBytes(List.of(SafeTensors.Tensor.f32("layer1.weight", new float[100], 10, 10)), Map.of());
        Path file = dir.resolve("cut.safetensors");
        Files.write(file, Arrays.copyOf(whole, whole.length - 40));
        var e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(file));
        assertTrue(
                e.getMessage().startsWith(file.toString())
                        && e.getMessage().contains("layer1.weight")
                        && e.getMessage().contains("truncated"),
                e.getMessage());

        Files.write(file, Arrays.copyOf(whole, 20));
        e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(file));
        assertTrue(
                e.getMessage().startsWith(file.toString()) && e.getMessage().contains("header length"), e.getMessage());

        Files.write(file, new byte[5]);
        e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("too short"), e.getMessage());
    }

    @Test
    void aHeaderLongerThanTheFileIsReportedAsATruncatedSafetensorsFileNotParsedAsOnnx() throws Exception {
        byte[] whole =
                SafeTensors.toBytes(List.of(SafeTensors.Tensor.f32("conv1.weight", new float[100], 10, 10)), Map.of());
        Path file = dir.resolve("cut-in-header.safetensors");
        Files.write(file, Arrays.copyOf(whole, 40));
        var e = assertThrows(IllegalArgumentException.class, () -> WeightsFile.read(file));
        assertTrue(
                e.getMessage().startsWith(file + ": header length field is ")
                        && e.getMessage().contains("but only 32 bytes follow it (truncated"),
                e.getMessage());
    }

    @Test
    void anAbsurdHeaderLengthOrASevenByteFileGetsTheSafetensorsMessageNotProtobufs() throws Exception {
        // a header length of 2^62 before a JSON header: named .safetensors or not, it is a damaged safetensors file
        byte[] absurd = new byte[16];
        ByteBuffer.wrap(absurd)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(1L << 62)
                .put((byte) '{')
                .put((byte) '}');
        for (String name : List.of("huge-header.safetensors", "huge-header.bin")) {
            Path file = dir.resolve(name);
            Files.write(file, absurd);
            var e = assertThrows(IllegalArgumentException.class, () -> WeightsFile.read(file));
            assertEquals(
                    file + ": header length field is 4611686018427387904, expected at most "
                            + SafeTensors.MAX_HEADER_BYTES + " (not a safetensors file?)",
                    e.getMessage());
        }
        Path seven = dir.resolve("seven.safetensors");
        Files.write(seven, new byte[] {1, 2, 3, 4, 5, 6, 7});
        var e = assertThrows(IllegalArgumentException.class, () -> WeightsFile.read(seven));
        assertEquals(
                seven + ": file is 7 bytes, too short for the 8-byte header length of a safetensors file",
                e.getMessage());
    }

    @Test
    void corruptHeadersFailWithWhatWasExpected() {
        assertReadFails(
                file("{\"t\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}", 20),
                "t",
                "needs 24 bytes");
        assertReadFails(
                file("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8),
                "t",
                "starts at data byte 4, expected 0");
        assertReadFails(
                file("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 8), "trailing bytes");
        assertReadFails(
                file("{\"t\": {\"dtype\": \"Q7\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4),
                "t",
                "dtype Q7 is not supported");
        assertReadFails(
                file("{\"t\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4),
                "t",
                "non-negative");
        assertReadFails(
                file("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4),
                "data_offsets must have 2 entries");
        assertReadFails(
                file("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"t\": 1}", 4),
                "duplicate key");
        assertReadFails(
                file("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]", 4), "header JSON");
        assertReadFails(file("[1, 2]", 0), "does not start with '{'");
        assertReadFails(file("{\"__metadata__\": {\"k\": 3}}", 0), "__metadata__.k must be a string");
    }

    private static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length)
                .put(h)
                .array();
    }

    private static void assertReadFails(byte[] bytes, String... fragments) {
        var e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(bytes, "bad.safetensors"));
        assertTrue(e.getMessage().startsWith("bad.safetensors: "), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
    }
}
