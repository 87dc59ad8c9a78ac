package org.sefonnx.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ExportManifest;
import org.sefonnx.infer.cli.PredictCommand;

/** The one check of an export directory: its files against their SHA-256 manifest, written last by the exporter. */
class ExportDirectoryTest {
    /** A copy of the golden export, manifest included, to damage on purpose. */
    private static Path copyOfExport(Path into) throws IOException {
        for (String file :
                List.of(ExportLayout.MODEL, ExportLayout.LABELS, ExportLayout.PREPROCESSING, ExportLayout.MANIFEST)) {
            Files.copy(GoldenModel.sharedExport().resolve(file), into.resolve(file));
        }
        return into;
    }

    private static int predict(String... args) {
        return PredictCommand.run(args, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    }

    @Test
    void fourFlippedBytesInModelOnnxAreRefusedBeforeLoadingNamingTheFile(@TempDir Path dir) throws IOException {
        Path export = copyOfExport(dir);
        Path model = export.resolve(ExportLayout.MODEL);
        byte[] bytes = Files.readAllBytes(model);
        for (int i = bytes.length / 2; i < bytes.length / 2 + 4; i++) bytes[i] ^= (byte) 0xFF;
        Files.write(model, bytes);

        InvalidExportException e = assertThrows(InvalidExportException.class, () -> SefClassifier.open(export));
        assertEquals(model, e.file());
        assertTrue(
                e.getMessage().contains("its SHA-256 is " + ExportManifest.sha256(model) + ", but SHA256SUMS records "),
                e.getMessage());
        String bird = GoldenModel.image("bird_on_branch.jpg").toString();
        assertEquals(PredictCommand.EXIT_BAD_MODEL, predict("--model", export.toString(), bird));
    }

    @Test
    void aLabelEditedOnPurposeLoadsOnlyWithTheCheckTurnedOff(@TempDir Path dir) throws IOException {
        Path export = copyOfExport(dir);
        Files.writeString(
                export.resolve(ExportLayout.LABELS), "Laysan albatross\nb\nc\nd\ne\n", StandardCharsets.UTF_8);
        InvalidExportException e = assertThrows(InvalidExportException.class, () -> ExportDirectory.open(export));
        assertEquals(export.resolve(ExportLayout.LABELS), e.file());
        String bird = GoldenModel.image("bird_on_branch.jpg").toString();
        assertEquals(PredictCommand.EXIT_BAD_MODEL, predict("--model", export.toString(), bird));

        assertEquals(0, predict("--model", export.toString(), "--no-verify-manifest", bird));
        try (SefClassifier classifier =
                SefClassifier.open(export, SefClassifier.Options.defaults().withVerifyManifest(false))) {
            assertEquals(
                    ExportDirectory.Integrity.NOT_CHECKED, classifier.export().integrity());
            assertEquals("Laysan albatross", classifier.labels().get(0));
        }
    }

    @Test
    void aManifestThatIsNotTheExportsIsRefusedNamingWhatIsWrong(@TempDir Path dir) throws IOException {
        Path export = copyOfExport(dir);
        Path manifest = export.resolve(ExportLayout.MANIFEST);
        List<String> lines = Files.readAllLines(manifest);
        Files.write(manifest, lines.subList(1, lines.size()));
        InvalidExportException e = assertThrows(InvalidExportException.class, () -> ExportDirectory.open(export));
        assertEquals(manifest, e.file());
        assertTrue(e.getMessage().contains("does not list model.onnx"), e.getMessage());

        List<String> more = new ArrayList<>(lines);
        more.add("0".repeat(64) + "  notes.txt");
        Files.write(manifest, more);
        e = assertThrows(InvalidExportException.class, () -> ExportDirectory.open(export));
        assertEquals(export.resolve("notes.txt") + ": listed in SHA256SUMS but missing", e.getMessage());

        Files.writeString(manifest, "not a manifest\n");
        e = assertThrows(InvalidExportException.class, () -> ExportDirectory.open(export));
        assertTrue(e.getMessage().startsWith(manifest + ": line 1 is not"), e.getMessage());
    }

    @Test
    void anExportWithoutAManifestOpensWithOneWarningLine(@TempDir Path dir) throws IOException {
        Path export = copyOfExport(dir);
        Files.delete(export.resolve(ExportLayout.MANIFEST));
        Logger logger = Logger.getLogger(ExportDirectory.class.getName());
        List<LogRecord> records = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(capture);
        try (SefClassifier classifier = SefClassifier.open(export)) {
            assertEquals(
                    ExportDirectory.Integrity.NO_MANIFEST, classifier.export().integrity());
            assertEquals(
                    5,
                    classifier.predict(GoldenModel.image("bird_on_branch.jpg")).size());
        } finally {
            logger.removeHandler(capture);
        }
        assertEquals(1, records.size(), records.toString());
        assertEquals(Level.WARNING, records.get(0).getLevel());
        String warning = records.get(0).getMessage();
        assertTrue(warning.startsWith(export + ": no SHA256SUMS, so its files are not checked"), warning);
        assertEquals(1, warning.lines().count(), warning);
    }

    @Test
    void theSharedExportVerifies() throws IOException {
        ExportDirectory export = ExportDirectory.open(GoldenModel.sharedExport());
        assertEquals(ExportDirectory.Integrity.VERIFIED, export.integrity());
        assertEquals(
                ExportManifest.sha256(GoldenModel.sharedExport().resolve(ExportLayout.MODEL)),
                export.recordedSha256(ExportLayout.MODEL).orElseThrow());
    }
}
