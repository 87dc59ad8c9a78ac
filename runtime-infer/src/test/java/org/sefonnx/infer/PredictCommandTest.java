package org.sefonnx.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.infer.cli.PredictCommand;

class PredictCommandTest {

    private record Outcome(int exitCode, String out, String err) {}

    private static Outcome run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = PredictCommand.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Outcome(code, out.toString(), err.toString());
    }

    @Test
    void printsRankedLabelsAsTextAndAsJson() throws IOException {
        String model = GoldenModel.sharedExport().toString();
        String bird = GoldenModel.image("bird_on_branch.jpg").toString();
        String gull = GoldenModel.image("gull_grayscale.jpg").toString();
        Outcome text = run("--model", model, "--top-k", "2", bird, gull);
        assertEquals(0, text.exitCode(), text.err());
        String[] lines = text.out().split("\n");
        assertEquals(6, lines.length, text.out());
        assertEquals(bird, lines[0]);
        assertTrue(lines[1].matches("  1\\. albatross +0\\.\\d{4}  \\(class 0\\)"), lines[1]);

        Outcome json = run("--model", model, "--json", "--top-k", "1", bird);
        assertEquals(0, json.exitCode(), json.err());
        assertTrue(
                json.out()
                        .matches(
                                "(?s)\\[\\n  \\{\"image\": \".*bird_on_branch\\.jpg\", \"predictions\": \\[\\{\"label\": \"albatross\", "
                                        + "\"index\": 0, \"probability\": 0\\.\\d+\\}\\]\\}\\n\\]\\n"),
                json.out());
    }

    @Test
    void jsonEscapesLabels(@TempDir Path dir) throws IOException {
        Path from = GoldenModel.sharedExport();
        Files.copy(from.resolve(ExportLayout.MODEL), dir.resolve(ExportLayout.MODEL));
        Files.copy(from.resolve(ExportLayout.PREPROCESSING), dir.resolve(ExportLayout.PREPROCESSING));
        Files.write(
                dir.resolve(ExportLayout.LABELS),
                List.of("Laysan \"albatross\" \\ 1", "b", "c", "d", "e"),
                StandardCharsets.UTF_8);
        Outcome json = run(
                "--model",
                dir.toString(),
                "--json",
                "--top-k",
                "1",
                GoldenModel.image("bird_on_branch.jpg").toString());
        assertEquals(0, json.exitCode(), json.err());
        assertTrue(json.out().contains("\"label\": \"Laysan \\\"albatross\\\" \\\\ 1\""), json.out());
    }

    @Test
    void exitCodesSayWhatWentWrong(@TempDir Path dir) throws IOException {
        String model = GoldenModel.sharedExport().toString();
        Outcome missingImage = run("--model", model, dir.resolve("nope.jpg").toString());
        assertEquals(PredictCommand.EXIT_BAD_IMAGE, missingImage.exitCode());
        assertTrue(
                missingImage.err().startsWith("predict: " + dir.resolve("nope.jpg") + ": file does not exist"),
                missingImage.err());

        Outcome badModel = run(
                "--model",
                dir.toString(),
                GoldenModel.image("bird_on_branch.jpg").toString());
        assertEquals(PredictCommand.EXIT_BAD_MODEL, badModel.exitCode());
        assertTrue(badModel.err().contains("model.onnx: missing"), badModel.err());

        assertEquals(2, run("--top-k", "3").exitCode());
        assertEquals(
                2,
                run(
                                "--model",
                                model,
                                "--top-k",
                                "0",
                                GoldenModel.image("bird_on_branch.jpg").toString())
                        .exitCode());
        Outcome help = run("--help");
        assertEquals(0, help.exitCode());
        assertTrue(help.out().contains("--top-k") && help.out().contains("default: 5"), help.out());
    }

    @Test
    void oneBadImageAmongGoodOnesPrintsTheGoodResultsAndReportsTheBadOne(@TempDir Path dir) throws IOException {
        String model = GoldenModel.sharedExport().toString();
        String bird = GoldenModel.image("bird_on_branch.jpg").toString(),
                gull = GoldenModel.image("gull_grayscale.jpg").toString();
        Path bad = Files.write(dir.resolve("bad.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0});
        Outcome text = run("--model", model, "--top-k", "1", bird, bad.toString(), gull);
        assertEquals(PredictCommand.EXIT_BAD_IMAGE, text.exitCode());
        assertEquals(
                List.of(bird, gull),
                text.out().lines().filter(l -> !l.startsWith(" ")).toList(),
                text.out());
        assertTrue(text.err().startsWith("predict: " + bad + ": "), text.err());
        assertTrue(text.err().contains("predict: 1 of 3 images could not be classified"), text.err());

        Outcome json = run("--model", model, "--json", "--top-k", "1", bird, bad.toString());
        assertEquals(PredictCommand.EXIT_BAD_IMAGE, json.exitCode());
        assertTrue(json.out().contains("\"predictions\": [{\"label\": \"albatross\""), json.out());
        assertTrue(json.out().contains("{\"image\": \"" + bad + "\", \"error\": \"" + bad + ": "), json.out());
    }

    @Test
    void aModelWithANanWeightExitsThreeAndTheJsonStaysValid(@TempDir Path dir) throws IOException {
        Path export = GoldenModel.withNanWeight(dir);
        String bird = GoldenModel.image("bird_on_branch.jpg").toString(),
                gull = GoldenModel.image("gull_grayscale.jpg").toString();
        Outcome json = run("--model", export.toString(), "--json", bird, gull);
        assertEquals(PredictCommand.EXIT_BAD_MODEL, json.exitCode(), json.err());
        JsonSyntax.check(json.out());
        assertTrue(json.out().contains("{\"image\": \"" + bird + "\", \"error\": \""), json.out());
        assertTrue(json.err().contains("non-finite"), json.err());
        Outcome text = run("--model", export.toString(), bird);
        assertEquals(PredictCommand.EXIT_BAD_MODEL, text.exitCode(), text.err());
        assertEquals("", text.out());
    }

    @Test
    void resultsFinishedBeforeAnOutOfMemoryErrorArePrintedThenItExitsFour(@TempDir Path dir) throws Exception {
        // a valid 6000 x 6000 PNG needs over 100 MB to decode: in a 64 MB JVM the 33rd image runs out of memory after
        // the first batch of 32 was classified
        Path huge = dir.resolve("huge.png");
        javax.imageio.ImageIO.write(
                new java.awt.image.BufferedImage(6000, 6000, java.awt.image.BufferedImage.TYPE_BYTE_GRAY),
                "png",
                huge.toFile());
        String bird = GoldenModel.image("bird_on_branch.jpg").toString();
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m",
                "-cp",
                System.getProperty("java.class.path"),
                PredictCommand.class.getName(),
                "--model",
                GoldenModel.sharedExport().toString(),
                "--json",
                "--top-k",
                "1"));
        for (int i = 0; i < SefClassifier.Options.DEFAULT_MAX_BATCH; i++) command.add(bird);
        command.add(huge.toString());
        command.add(GoldenModel.image("finch_rgba.png").toString());
        Process p = new ProcessBuilder(command)
                .redirectError(dir.resolve("err.txt").toFile())
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = p.waitFor();
        String err = Files.readString(dir.resolve("err.txt"));
        assertEquals(PredictCommand.EXIT_OUT_OF_MEMORY, exit, err);
        assertTrue(err.contains("out of memory"), err);
        JsonSyntax.check(out);
        assertEquals(
                SefClassifier.Options.DEFAULT_MAX_BATCH,
                out.lines().filter(l -> l.contains("\"label\": \"albatross\"")).count(),
                out);
        assertTrue(!out.contains("finch_rgba"), out);
    }

    @Test
    void negativeThreadsIsACommandLineErrorNotABadImage() throws IOException {
        Outcome r = run(
                "--model",
                GoldenModel.sharedExport().toString(),
                "--threads",
                "-1",
                GoldenModel.image("bird_on_branch.jpg").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--threads must be >= 0 (0: one per physical core), got -1"), r.err());
        assertTrue(!r.err().contains("\tat "), "no stack trace: " + r.err());
    }
}
