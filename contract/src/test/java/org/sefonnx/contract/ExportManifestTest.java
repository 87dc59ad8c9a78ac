package org.sefonnx.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportManifestTest {
    @Test
    void isWhatSha256sumPrintsForTheFilesGivenInTheirOrder(@TempDir Path dir) throws IOException, InterruptedException {
        Files.write(dir.resolve(ExportLayout.MODEL), new byte[] {1, 2, 3});
        Files.writeString(dir.resolve(ExportLayout.LABELS), "a\nb\n");
        Files.writeString(dir.resolve(ExportLayout.PREPROCESSING), "p\n");
        Files.writeString(dir.resolve("notes.txt"), "not part of the export");
        Map<String, String> written = ExportManifest.write(dir, ExportLayout.REQUIRED_FILES);
        assertEquals(ExportLayout.REQUIRED_FILES, List.copyOf(written.keySet()));
        assertEquals(written, ExportManifest.read(dir.resolve(ExportManifest.FILE_NAME)));

        Process sha256sum = new ProcessBuilder(
                        "sh",
                        "-c",
                        "sha256sum model.onnx labels.txt preprocessing.properties | cmp - " + ExportManifest.FILE_NAME
                                + " && sha256sum -c --quiet " + ExportManifest.FILE_NAME)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String printed = new String(sha256sum.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, sha256sum.waitFor(), printed);
        assertEquals("", printed);
    }

    @Test
    void readsBinaryModeLinesAndRefusesPathsRepeatsAndGarbageNamingTheLine(@TempDir Path dir) throws IOException {
        String hash = "A".repeat(64);
        Path manifest = dir.resolve(ExportManifest.FILE_NAME);
        Files.writeString(manifest, hash + " *model.onnx\r\n");
        assertEquals(Map.of("model.onnx", "a".repeat(64)), ExportManifest.read(manifest));
        for (String bad : List.of(
                hash + "  ../model.onnx\n",
                hash + "  a\n" + hash + "  a\n",
                "0123  model.onnx\n",
                hash + "model.onnx\n")) {
            Files.writeString(manifest, bad);
            FileFormatException e = assertThrows(FileFormatException.class, () -> ExportManifest.read(manifest));
            assertEquals(manifest, e.file());
            assertTrue(e.problem().startsWith("line "), e.getMessage());
        }
        Files.delete(manifest);
        assertEquals(
                "missing",
                assertThrows(FileFormatException.class, () -> ExportManifest.read(manifest))
                        .problem());
    }
}
