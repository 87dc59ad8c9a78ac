package org.sefonnx.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @Test
    void replacesTheFileAndLeavesNoTempBehind(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("sub/model.onnx");
        AtomicFiles.write(file, new byte[] {1, 2, 3});
        AtomicFiles.writeDurably(file, new byte[] {4, 5});
        assertArrayEquals(new byte[] {4, 5}, Files.readAllBytes(file));
        try (Stream<Path> all = Files.list(file.getParent())) {
            assertEquals(List.of(file), all.toList());
        }
    }

    @Test
    void modeFollowsTheUmaskLikeAPlainCreate(@TempDir Path dir) throws IOException {
        // the umask of this process, as a plain Files.write shows it (022: rw-r--r--); never createTempFile's 0600
        Path probe = Files.write(dir.resolve("probe"), new byte[0]);
        String expected = PosixFilePermissions.toString(Files.getPosixFilePermissions(probe));
        Path labels = dir.resolve(LabelFile.FILE_NAME), native_ = dir.resolve("native");
        LabelFile.write(labels, List.of("a"));
        AtomicFiles.writeVia(native_, tmp -> Files.write(tmp, new byte[] {7}));
        assertEquals(expected, PosixFilePermissions.toString(Files.getPosixFilePermissions(labels)));
        assertEquals(expected, PosixFilePermissions.toString(Files.getPosixFilePermissions(native_)));
    }

    @Test
    void aFailedWriterLeavesTheOldFileAndNoTemp(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("checkpoint");
        AtomicFiles.write(file, new byte[] {1});
        IOException e = assertThrows(
                IOException.class,
                () -> AtomicFiles.writeVia(file, tmp -> {
                    Files.write(tmp, new byte[] {9, 9});
                    throw new IOException("disk full");
                }));
        assertEquals("disk full", e.getMessage());
        assertArrayEquals(new byte[] {1}, Files.readAllBytes(file));
        try (Stream<Path> all = Files.list(dir)) {
            assertEquals(List.of(file), all.toList());
        }
    }

    @Test
    void deleteTempsRemovesOnlyWhatKilledWritersLeft(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve(".checkpoint.1f.tmp"), new byte[0]);
        Files.write(dir.resolve(".model.onnx.tmp"), new byte[0]);
        Files.write(dir.resolve("notes.tmp"), new byte[0]);
        Files.write(dir.resolve(".hidden"), new byte[0]);
        assertEquals(2, AtomicFiles.deleteTemps(dir));
        assertTrue(Files.exists(dir.resolve("notes.tmp")) && Files.exists(dir.resolve(".hidden")));
        assertEquals(0, AtomicFiles.deleteTemps(dir.resolve("absent")));
    }
}
