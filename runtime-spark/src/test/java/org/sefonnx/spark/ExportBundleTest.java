package org.sefonnx.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.infer.InvalidExportException;

class ExportBundleTest {

    @Test
    void identityIsWhatSha256sumOfTheListingPrints() throws IOException, InterruptedException {
        Path export = TestExport.shared();
        Process sha256sum = new ProcessBuilder(
                        "sh", "-c", "sha256sum model.onnx labels.txt preprocessing.properties | sha256sum")
                .directory(export.toFile())
                .redirectErrorStream(true)
                .start();
        String printed = new String(sha256sum.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, sha256sum.waitFor(), printed);
        ExportBundle bundle = ExportBundle.read(export);
        assertEquals(printed.split(" ")[0], bundle.sha256());
        assertEquals(
                Files.size(export.resolve("model.onnx"))
                        + Files.size(export.resolve("labels.txt"))
                        + Files.size(export.resolve("preprocessing.properties")),
                bundle.bytes());
    }

    @Test
    void otherLabelsAreAnotherIdentity(@TempDir Path dir) throws IOException {
        assertNotEquals(
                ExportBundle.read(TestExport.shared()).sha256(),
                ExportBundle.read(TestExport.relabelled(dir, "x-")).sha256());
    }

    @Test
    void filesThatChangedOnTheWayAreRefusedAtLoad(@TempDir Path scratch) throws IOException, ClassNotFoundException {
        ExportBundle bundle = ExportBundle.read(TestExport.shared());
        Path written = bundle.materialize(scratch, bundle.sha256());
        for (String file : ExportLayout.REQUIRED_FILES) {
            assertTrue(
                    Arrays.equals(
                            Files.readAllBytes(TestExport.shared().resolve(file)),
                            Files.readAllBytes(written.resolve(file))),
                    file);
        }

        ByteArrayOutputStream serialized = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(serialized)) {
            out.writeObject(bundle);
        }
        byte[] wire = serialized.toByteArray();
        byte[] label = "albatross".getBytes(StandardCharsets.UTF_8);
        int at = TestExport.indexOf(wire, label);
        assertTrue(at > 0, "labels.txt's bytes are in the serialized bundle");
        wire[at] = 'A'; // one flipped byte in transit
        ExportBundle arrived;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(wire))) {
            arrived = (ExportBundle) in.readObject();
        }
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> arrived.materialize(scratch, bundle.sha256()));
        assertTrue(e.getMessage().contains("expected SHA-256 " + bundle.sha256()), e.getMessage());
    }

    @Test
    void aModelChangedAfterTheExportIsRefusedOnTheDriverUnlessTheCheckIsOff(@TempDir Path dir) throws IOException {
        for (String file :
                List.of(ExportLayout.MODEL, ExportLayout.LABELS, ExportLayout.PREPROCESSING, ExportLayout.MANIFEST))
            Files.copy(TestExport.shared().resolve(file), dir.resolve(file));
        Path model = dir.resolve(ExportLayout.MODEL);
        byte[] bytes = Files.readAllBytes(model);
        for (int i = bytes.length / 2; i < bytes.length / 2 + 4; i++) bytes[i] ^= (byte) 0xFF;
        Files.write(model, bytes);
        InvalidExportException e = assertThrows(
                InvalidExportException.class,
                () -> SparkClassifier.open(TestSpark.session(), dir, SparkClassifier.Options.defaults()));
        assertEquals(model, e.file());
        assertTrue(e.getMessage().contains("SHA256SUMS records"), e.getMessage());
        ExportBundle unchecked = ExportBundle.read(dir, false);
        assertNotEquals(ExportBundle.read(TestExport.shared()).sha256(), unchecked.sha256());
    }

    @Test
    void aMissingFileIsNamed(@TempDir Path dir) throws IOException {
        Files.copy(TestExport.shared().resolve("model.onnx"), dir.resolve("model.onnx"));
        InvalidExportException e = assertThrows(InvalidExportException.class, () -> ExportBundle.read(dir));
        assertEquals(dir.resolve("labels.txt"), e.file());
    }
}
