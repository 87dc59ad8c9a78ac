package org.sefonnx.train.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * explain and eval on a finished run: bad input (a file that is not a checkpoint, a folder for --images, an --out
 * that is not explain's, an empty test split) is refused in one line with exit code 2 before any work, and a failed
 * explain leaves no empty folder.
 */
class ExplainAndEvalInputTest {
    @TempDir
    static Path shared;

    static Path run, data;

    @BeforeAll
    static void train() throws Exception {
        data = BadInputIsRefusedBeforeWorkTest.imageFolder(shared.resolve("data"), 2, 1);
        run = shared.resolve("run");
        List<String> args = new ArrayList<>(
                List.of("train", "--out", run.toString(), "--data", data.toString(), "--max-batches-per-epoch", "1"));
        args.addAll(List.of(BadInputIsRefusedBeforeWorkTest.TINY_SPEC));
        String[] r = quietly(args.toArray(new String[0]));
        assertEquals("0", r[0], r[2]);
    }

    /** The command line with the trainer's and explain's own log (System.out) silenced. */
    private static String[] quietly(String... args) {
        PrintStream stdout = System.out;
        try {
            System.setOut(new PrintStream(PrintStream.nullOutputStream()));
            return SefOnnxCliTest.run(args);
        } finally {
            System.setOut(stdout);
        }
    }

    private static String[] explain(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("explain", "--run", run.toString(), "--out", out.toString()));
        args.addAll(List.of(extra));
        return quietly(args.toArray(new String[0]));
    }

    private static void assertRefused(String[] r, String expected) {
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains(expected), "expected '" + expected + "' in: " + r[2]);
        assertEquals(1, r[2].strip().lines().count(), r[2]);
    }

    @Test
    void aFileThatIsNotACheckpointIsRefusedBeforeOnnxRuntimeSeesIt(@TempDir Path dir) throws Exception {
        Path jpg = data.resolve("test/a/0.png");
        Path out = dir.resolve("out");
        assertRefused(
                explain(out, "--checkpoint", jpg.toString(), "--test-samples", "2"),
                "--checkpoint " + jpg + " is not an ONNX Runtime checkpoint (");
        assertFalse(Files.exists(out));
        assertRefused(
                quietly("eval", "--run", run.toString(), "--checkpoint", jpg.toString()),
                "is not an ONNX Runtime checkpoint");
    }

    @Test
    void aFolderGivenToImagesIsNamedAsAFolder(@TempDir Path dir) {
        Path folder = data.resolve("test/a");
        assertRefused(
                explain(dir.resolve("out"), "--images", folder.toString()),
                "--images " + folder + " is a folder; give image files (JPEG or PNG), e.g. --images "
                        + folder.resolve("*.jpg"));
        assertFalse(Files.exists(dir.resolve("out")));
    }

    @Test
    void outMustBeNewEmptyOrAnEarlierExplainOutputAndNeverTheRunsExport(@TempDir Path dir) throws Exception {
        Path export = run.resolve("export");
        byte[] model = Files.readAllBytes(export.resolve("model.onnx"));
        assertRefused(explain(export, "--test-samples", "2"), "--out " + export + " is the run's own export folder");
        assertArrayEquals(model, Files.readAllBytes(export.resolve("model.onnx")));
        assertFalse(Files.exists(export.resolve("images")));

        Path mine = Files.createDirectories(dir.resolve("photos"));
        Files.writeString(mine.resolve("notes.txt"), "mine");
        assertRefused(
                explain(mine, "--test-samples", "2"),
                "--out " + mine + " holds notes.txt, which is not the output of an earlier explain; nothing was"
                        + " written");
        assertEquals(List.of("notes.txt"), listing(mine));

        // the run's explain/ (the report's pass over 8 test images) is an earlier explain output: replaced whole
        Path explained = run.resolve("explain");
        assertTrue(listing(explained.resolve("images")).size() > 2);
        String[] r = explain(explained, "--test-samples", "2");
        assertEquals("0", r[0], r[2]);
        assertEquals(2, listing(explained.resolve("images")).size(), "the earlier pass's images are gone");
    }

    /**
     * The README's commands name folders relative to the working directory (`--out runs/demo`). A pass that creates
     * its folder there keeps every image it made (the first one included), and a run there ends with its report.
     */
    @Test
    void foldersGivenRelativeToTheWorkingDirectoryKeepEveryImageAndTheRunItsReport(@TempDir Path dir) throws Exception {
        Path cwd = Path.of("").toAbsolutePath();
        Path out = cwd.relativize(dir.resolve("explained"));
        assertFalse(out.isAbsolute());
        String[] r = explain(out, "--test-samples", "2");
        assertEquals("0", r[0], r[2]);
        assertEquals(2, listing(out.resolve("images")).size());
        Path files = cwd.relativize(dir.resolve("files"));
        r = explain(
                files,
                "--images",
                cwd.relativize(data.resolve("test/a/0.png")).toString(),
                cwd.relativize(data.resolve("test/b/0.png")).toString());
        assertEquals("0", r[0], r[2]);
        assertEquals(List.of("000-0.png", "001-0.png"), listing(files.resolve("images")), "one image each, named once");

        Path relativeRun = cwd.relativize(dir.resolve("run"));
        List<String> args = new ArrayList<>(List.of(
                "train", "--out", relativeRun.toString(), "--data", data.toString(), "--max-batches-per-epoch", "1"));
        args.addAll(List.of(BadInputIsRefusedBeforeWorkTest.TINY_SPEC));
        r = quietly(args.toArray(new String[0]));
        assertEquals("0", r[0], r[2]);
        assertTrue(Files.isRegularFile(relativeRun.resolve("report.html")));
        assertEquals(3, listing(relativeRun.resolve("explain/images")).size(), "one image per test image");
    }

    @Test
    void aFailedExplainLeavesNoEmptyFolder(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.png");
        Files.write(bad, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Path out = dir.resolve("out");
        String[] r = explain(out, "--images", bad.toString());
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains(bad.toString()), r[2]);
        assertFalse(Files.exists(out), "no empty " + out + "/images left behind");
    }

    @Test
    void anEmptyTestSplitIsNamedWithTheDataSet(@TempDir Path dir) throws Exception {
        Path empty = BadInputIsRefusedBeforeWorkTest.imageFolder(dir.resolve("empty"), 1, 0);
        assertRefused(
                quietly("eval", "--run", run.toString(), "--data", empty.toString()),
                "ImageFolder at " + empty + ": the test split has no images (top-1 would be undefined)");
    }

    private static List<String> listing(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
