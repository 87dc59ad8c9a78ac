package org.sefonnx.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabelFileTest {
    @Test
    void writtenNamesReadBackInOrderOnePerLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("out/" + LabelFile.FILE_NAME);
        List<String> names = List.of("Laysan \"albatross\" \\ 1", "Black-footed Albatross", "  spaced  ", "ß 鳥");
        LabelFile.write(file, names);
        assertEquals(String.join("\n", names) + "\n", Files.readString(file, StandardCharsets.UTF_8));
        assertEquals(names, LabelFile.read(file));
    }

    @Test
    void otherToolsLineEndsBomAndMissingLastNewlineAreAccepted(@TempDir Path dir) throws IOException {
        Path file = dir.resolve(LabelFile.FILE_NAME);
        Files.writeString(file, "\uFEFFa\r\nb\r\nc", StandardCharsets.UTF_8);
        assertEquals(List.of("a", "b", "c"), LabelFile.read(file));
    }

    @Test
    void blankLineIsRefusedNamingFileAndLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve(LabelFile.FILE_NAME);
        Files.writeString(file, "a\nb\n\nd\n", StandardCharsets.UTF_8);
        FileFormatException e = assertThrows(FileFormatException.class, () -> LabelFile.read(file));
        assertEquals(file, e.file());
        assertEquals("line 3 is empty; expected one class name per line", e.problem());
        assertEquals(file + ": line 3 is empty; expected one class name per line", e.getMessage());

        Files.writeString(file, "a\n   \n", StandardCharsets.UTF_8);
        assertEquals(
                "line 2 is empty; expected one class name per line",
                assertThrows(FileFormatException.class, () -> LabelFile.read(file))
                        .problem());
    }

    @Test
    void missingFileAndNonUtf8BytesAreRefused(@TempDir Path dir) throws IOException {
        Path file = dir.resolve(LabelFile.FILE_NAME);
        assertEquals(
                "missing",
                assertThrows(FileFormatException.class, () -> LabelFile.read(file))
                        .problem());
        Files.write(file, new byte[] {'a', '\n', (byte) 0xff, '\n'});
        assertEquals(
                "is not UTF-8 text",
                assertThrows(FileFormatException.class, () -> LabelFile.read(file))
                        .problem());
    }

    @Test
    void namesTheReaderWouldRefuseAreNotWritten(@TempDir Path dir) {
        Path file = dir.resolve(LabelFile.FILE_NAME);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> LabelFile.write(file, List.of("a", "b\nc")));
        assertEquals("class 1 name contains a line break; labels.txt holds one name per line", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LabelFile.write(file, List.of("a", " ")));
        assertEquals("class 1 has an empty name; labels.txt needs one name per class", e.getMessage());
        assertEquals(false, Files.exists(file));
    }
}
