package org.sefonnx.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MatFileTest {

    @ParameterizedTest
    @ValueSource(strings = {"mat/types_v7.mat", "mat/types_v6.mat"})
    void readsEveryTypeOctaveWrites(String fixture) throws IOException {
        MatFile mat = MatFile.read(Fixtures.data(fixture));

        MatArray.Numeric d = (MatArray.Numeric) mat.get("d");
        assertArrayEquals(new int[] {2, 3}, d.dims());
        // column-major: d = [1.5 -2.25 3; 4 5 6e10]
        assertArrayEquals(new double[] {1.5, 4, -2.25, 5, 3, 6e10}, d.values());
        assertArrayEquals(new double[] {0.5, -1.25, 3.75}, ((MatArray.Numeric) mat.get("s")).values());
        assertEquals(MatArray.NumericClass.SINGLE, ((MatArray.Numeric) mat.get("s")).numericClass());
        assertArrayEquals(new double[] {0, 1, 255}, ((MatArray.Numeric) mat.get("u8")).values());
        assertArrayEquals(new double[] {-128, 0, 127}, ((MatArray.Numeric) mat.get("i8")).values());
        assertArrayEquals(new double[] {-32768, 7, 32767}, ((MatArray.Numeric) mat.get("i16")).values());
        assertArrayEquals(new double[] {0, 1000, 65535}, ((MatArray.Numeric) mat.get("u16")).values());
        assertArrayEquals(new double[] {-2147483648.0, 0, 2147483647.0}, ((MatArray.Numeric) mat.get("i32")).values());
        assertArrayEquals(new double[] {0, 123456, 4294967295.0}, ((MatArray.Numeric) mat.get("u32")).values());
        assertEquals(MatArray.NumericClass.UINT32, ((MatArray.Numeric) mat.get("u32")).numericClass());
        assertEquals(42, ((MatArray.Numeric) mat.get("scalar")).scalarInt());
        assertEquals(0, mat.get("empty").numel());

        assertEquals("Caf\u00e9 na\u00efve", ((MatArray.Chars) mat.get("text")).string());
        assertEquals(List.of("ab", "cd", "ef"), ((MatArray.Chars) mat.get("rows")).rows());

        MatArray.Cell mixed = (MatArray.Cell) mat.get("mixed");
        assertEquals(4, mixed.cells().size());
        assertEquals(1, ((MatArray.Numeric) mixed.cells().get(0)).scalarInt());
        assertEquals("two", ((MatArray.Chars) mixed.cells().get(1)).string());
        MatArray.Cell inner = (MatArray.Cell) mixed.cells().get(2);
        assertEquals(
                MatArray.NumericClass.INT16, ((MatArray.Numeric) inner.cells().get(0)).numericClass());
        assertEquals(3, ((MatArray.Numeric) inner.cells().get(0)).scalarInt());
        assertArrayEquals(new double[] {4, 5}, ((MatArray.Numeric) mixed.cells().get(3)).values());

        MatArray.Struct nested = (MatArray.Struct) mat.get("nested");
        assertEquals(List.of("name", "inner", "list"), nested.fieldNames());
        assertEquals("outer", ((MatArray.Chars) nested.field(0, "name")).string());
        MatArray.Struct innerStruct = (MatArray.Struct) nested.field(0, "inner");
        assertArrayEquals(new int[] {1, 2}, innerStruct.dims());
        assertEquals(2, ((MatArray.Numeric) innerStruct.field(1, "value")).scalarInt());
        assertEquals(
                "y",
                ((MatArray.Chars) ((MatArray.Cell) nested.field(0, "list"))
                                .cells()
                                .get(1))
                        .string());
    }

    @Test
    void compressedAndUncompressedFilesHoldTheSameVariables() throws IOException {
        assertEquals(
                MatFile.read(Fixtures.data("mat/types_v6.mat")).names(),
                MatFile.read(Fixtures.data("mat/types_v7.mat")).names());
        assertTrue(Files.size(Fixtures.data("mat/types_v7.mat")) < Files.size(Fixtures.data("mat/types_v6.mat")));
    }

    @Test
    void truncatedUncompressedFileNamesFileVariableAndOffset(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(Fixtures.data("mat/types_v6.mat"));
        Path broken = dir.resolve("broken.mat");
        Files.write(broken, Arrays.copyOf(whole, 300));
        MatFormatException e = assertThrows(MatFormatException.class, () -> MatFile.read(broken));
        assertTrue(e.getMessage().startsWith(broken.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("byte offset"), e.getMessage());
        assertTrue(e.byteOffset() >= 128 && e.byteOffset() < 300, "offset " + e.byteOffset());
    }

    @Test
    void corruptCompressedElementIsReportedAtItsOffset(@TempDir Path dir) throws IOException {
        byte[] bytes = Files.readAllBytes(Fixtures.data("mat/types_v7.mat"));
        for (int i = 140; i < 150; i++) {
            bytes[i] ^= 0x5A;
        }
        Path broken = dir.resolve("corrupt.mat");
        Files.write(broken, bytes);
        MatFormatException e = assertThrows(MatFormatException.class, () -> MatFile.read(broken));
        assertEquals(128, e.byteOffset(), e.getMessage());
    }

    @Test
    void missingVariableListsTheOnesPresent() throws IOException {
        MatFile mat = MatFile.read(Fixtures.data("cars_devkit/devkit/cars_meta.mat"));
        MatFormatException e = assertThrows(MatFormatException.class, () -> mat.get("annotations"));
        assertTrue(e.getMessage().contains("'annotations'") && e.getMessage().contains("class_names"), e.getMessage());
    }

    @Test
    void readsMatlabStyleUtf16CharsAndSmallElements() {
        // What MATLAB (not Octave) writes for x = 'Z\u00fcrich': miUINT16 code units; name as a small data element.
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(128 + 8 + 48 + 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[124]).putShort((short) 0x0100).put((byte) 'I').put((byte) 'M');
        b.putInt(14).putInt(48 + 16);
        b.putInt(6).putInt(8).putInt(4).putInt(0); // array flags: mxCHAR_CLASS
        b.putInt(5).putInt(8).putInt(1).putInt(6); // dims 1x6
        b.putShort((short) 1).putShort((short) 1).put((byte) 'x').put(new byte[3]); // small element name "x"
        b.putInt(4).putInt(12); // miUINT16, 12 bytes
        for (char c : "Z\u00fcrich".toCharArray()) {
            b.putChar(c);
        }
        b.put(new byte[4]);
        MatFile mat = MatFile.parse(Path.of("matlab.mat"), b.array());
        assertEquals("Z\u00fcrich", ((MatArray.Chars) mat.get("x")).string());
    }

    @Test
    void rejectsHdf5StyleHeader(@TempDir Path dir) throws IOException {
        byte[] header = new byte[128];
        Path file = dir.resolve("v73.mat");
        Files.write(file, header);
        MatFormatException e = assertThrows(MatFormatException.class, () -> MatFile.read(file));
        assertEquals(126, e.byteOffset());
    }
}
