package org.sefonnx.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.data.ValidationSplit;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunProperties;
import org.sefonnx.train.run.state.RunState;
import org.sefonnx.train.run.state.UnfinishedStart;

class AblationTest {
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** The 2-class ImageFolder fixture (2 train images per class, 1 test). */
    private static Path data() throws Exception {
        return Path.of(AblationTest.class.getResource("/data/imagefolder").toURI());
    }

    /** ResNet-18 at 32 px, one epoch of one batch: what {@link #ABLATE} gives on the command line. */
    private static TrainOptions template(Path out) throws Exception {
        return TrainOptions.builder(ModelSpec.of("imagefolder-r18", 18, 2, 2, 32), out)
                .data(Layout.IMAGEFOLDER, data())
                .epochs(1)
                .batchSize(2)
                .learningRate(0.01)
                .lrStepEpochs(20)
                .lrGamma(0.1)
                .seed(42)
                .device(TrainOptions.Device.CPU)
                .threads(1)
                .workers(1)
                .maxBatchesPerEpoch(1)
                .build();
    }

    /** {@link #template}'s options on the command line. */
    private static final List<String> TEMPLATE_ARGS = List.of(
            "ablate",
            "--layout",
            "imagefolder",
            "--depth",
            "18",
            "--classes",
            "2",
            "--groups",
            "2",
            "--image-size",
            "32",
            "--batch-size",
            "2",
            "--epochs",
            "1",
            "--max-batches-per-epoch",
            "1",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--workers",
            "1",
            "--seed",
            "42");

    private static final List<String> ABLATE = Stream.concat(
                    TEMPLATE_ARGS.stream(),
                    Stream.of("--rows", "baseline,sef", "--val-fraction", "0.5", "--select-on", "val"))
            .toList();

    @Test
    void aKilledAblationContinuesWithoutRedoingTheFinishedRow(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("ablation");
        // half of each class's two training images held out, the best epoch chosen on them
        Protocol protocol = Protocol.of(0.5, null, Protocol.SelectOn.VAL, false);
        List<Ablation.Row> rows = Ablation.rows("baseline,sef");
        Ablation first = new Ablation(template(out), protocol, QUIET);
        first.afterRow = row -> {
            throw new IOException("killed after row " + row.name());
        };
        IOException killed = assertThrows(IOException.class, () -> first.run(rows));
        assertEquals("killed after row baseline", killed.getMessage());
        Path baseline = out.resolve("baseline");
        byte[] stateBefore = Files.readAllBytes(baseline.resolve("checkpoints/state.properties"));
        long checkpointTime = Files.getLastModifiedTime(baseline.resolve("checkpoints/epoch-0001.ckpt"))
                .toMillis();
        assertTrue(!Files.exists(out.resolve("sef")), "the kill came before row two started");
        // ... or, as here, just after row two's start wrote its marker and part of its graphs
        Files.createDirectories(out.resolve("sef/artifacts"));
        Files.writeString(out.resolve("sef/" + UnfinishedStart.MARKER), "");
        Files.write(out.resolve("sef/artifacts/training_model.onnx"), new byte[] {8, 1});

        // the same ablation again, from the command line: it must pick up the folder the killed one left
        List<String> args = new java.util.ArrayList<>(ABLATE);
        args.addAll(List.of("--data", data().toString(), "--out", out.toString()));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        String[] r;
        try {
            System.setOut(new PrintStream(log, true, StandardCharsets.UTF_8));
            r = org.sefonnx.train.cli.SefOnnxCliTest.run(args.toArray(new String[0]));
        } finally {
            System.setOut(stdout);
        }
        assertEquals("0", r[0], r[2]);
        String printed = log.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("row baseline (λ=0 γ=0 φ=0) finished earlier"), printed);
        assertTrue(printed.contains("holds a start that was stopped before its first epoch"), printed);
        assertTrue(printed.contains("| sef | λ=1 γ=0.05 φ=1 |"), "the table is printed: " + printed);
        assertArrayEquals(stateBefore, Files.readAllBytes(baseline.resolve("checkpoints/state.properties")));
        assertEquals(
                checkpointTime,
                Files.getLastModifiedTime(baseline.resolve("checkpoints/epoch-0001.ckpt"))
                        .toMillis());

        Path sef = out.resolve("sef");
        assertEquals(
                ModelSpec.of("imagefolder-r18", 18, 2, 2, 32),
                RunProperties.read(new RunDirectory(sef)).options().spec(),
                "the sef row is the base spec");
        assertEquals(
                0.0,
                RunProperties.read(new RunDirectory(baseline)).options().spec().lambda());
        assertEquals(
                "imagefolder-r18-baseline",
                RunProperties.read(new RunDirectory(baseline)).options().spec().id());
        // the same seed gives both rows the same validation list: one image per class
        List<String> val = Files.readAllLines(baseline.resolve(ValidationSplit.FILE));
        assertEquals(val, Files.readAllLines(sef.resolve(ValidationSplit.FILE)));
        assertEquals(3, val.size(), "a header and two images");
        assertTrue(val.get(1).startsWith("0\t") && val.get(2).startsWith("1\t"), val.toString());
        // the run state keeps the validation pass's integer counts; the summary and metrics state the rule
        RunState state = RunState.read(new RunDirectory(sef));
        assertEquals(2, state.bestTotal());
        assertTrue(Files.readString(sef.resolve("metrics.jsonl")).contains("\"selected_on\": \"val\""));
        String summary = Files.readString(sef.resolve("summary.txt"));
        assertTrue(
                summary.startsWith("best validation top-1: ")
                        && summary.contains("test top-1 at that epoch: ")
                        && summary.contains("selection rule: best epoch by validation top-1")
                        && summary.contains("validation split: 2 of 4 training images held out for validation (0.500)"),
                summary);

        List<String> csv = Files.readAllLines(out.resolve(Ablation.TABLE_CSV));
        assertEquals(3, csv.size());
        assertTrue(
                csv.get(0).endsWith(",paper_top1_percent,seed,batch_size,max_batches_per_epoch,data_root"), csv.get(0));
        for (int i = 0; i < 2; i++) {
            String row = List.of("baseline", "sef").get(i);
            RunState rowState = RunState.read(new RunDirectory(out.resolve(row)));
            EpochMetrics best = rowState.metrics().get(rowState.bestEpoch());
            String[] cells = csv.get(i + 1).split(",");
            assertEquals(row, cells[0]);
            assertEquals(
                    best.testTop1(),
                    Double.parseDouble(cells[4]),
                    1e-6,
                    "the test top-1 at the epoch validation picked");
            assertEquals(2.0 * best.testTop1(), Math.rint(2.0 * best.testTop1()), 1e-12, "two test images");
            assertEquals("val", cells[6]);
            assertEquals(
                    rowState.bestCorrect() / 2.0,
                    Double.parseDouble(cells[7]),
                    1e-6,
                    "the validation top-1 over two images");
            assertEquals("1", cells[8]);
            assertEquals("not a paper data set", cells[10]);
            assertEquals(
                    List.of("42", "2", "1", data().toAbsolutePath().toString()),
                    List.of(cells).subList(11, 15));
        }
        String md = Files.readString(out.resolve(Ablation.TABLE_MD));
        assertTrue(md.contains("Selection rule: best epoch by validation top-1"), md);
        assertTrue(md.contains("Every row: seed 42, batch size 2, at most 1 batch per epoch, 1 epoch."), md);
        assertTrue(md.contains("imagefolder at " + data().toAbsolutePath()), md);

        // the row cannot be continued under another rule
        var e = assertThrows(
                IllegalArgumentException.class, () -> Trainer.resume(sef, 2, false, Protocol.AUTHORS, QUIET));
        assertTrue(
                e.getMessage().contains("the run has --val-fraction 0.5, the command no validation split"),
                e.getMessage());
    }

    @Test
    void aRerunWithAnotherSeedBatchSizeOrBatchLimitIsRefusedUnlessForced(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("ablation");
        new Ablation(template(out), Protocol.AUTHORS, QUIET).run(Ablation.rows("baseline"));
        byte[] state = Files.readAllBytes(out.resolve("baseline/checkpoints/state.properties"));
        String[][] changes = {
            {"--seed", "7", "seed 7, batch size 2, at most 1 batch per epoch"},
            {"--batch-size", "3", "seed 42, batch size 3, at most 1 batch per epoch"},
            {"--max-batches-per-epoch", "0", "seed 42, batch size 2, every batch"},
        };
        for (String[] change : changes) {
            String[] r = ablate(out, change[0], change[1]);
            assertEquals("2", r[0], r[2]);
            assertTrue(
                    r[2].contains(out.resolve("baseline") + " was trained with seed 42, batch size 2, at most 1 batch"
                            + " per epoch but this ablation asks for " + change[2]),
                    r[2]);
            assertTrue(r[2].contains("--force-rows"), r[2]);
        }
        assertArrayEquals(state, Files.readAllBytes(out.resolve("baseline/checkpoints/state.properties")));
        // forced: the row is kept as it is, and the table says what it was trained with, not what was asked
        String[] r = ablate(out, "--seed", "7", "--force-rows");
        assertEquals("0", r[0], r[2]);
        assertArrayEquals(state, Files.readAllBytes(out.resolve("baseline/checkpoints/state.properties")));
        String md = Files.readString(out.resolve(Ablation.TABLE_MD));
        assertTrue(md.contains("Every row: seed 42, batch size 2, at most 1 batch per epoch, 1 epoch."), md);
    }

    /** `sef-onnx ablate` of the baseline row with {@link #template}'s options, then {@code extra}. */
    private static String[] ablate(Path out, String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(TEMPLATE_ARGS);
        args.addAll(List.of("--data", data().toString(), "--out", out.toString(), "--rows", "baseline"));
        for (int i = 0; i < extra.length; i++) {
            int at = args.indexOf(extra[i]);
            if (at >= 0 && i + 1 < extra.length && !extra[i + 1].startsWith("--")) args.set(at + 1, extra[++i]);
            else args.add(extra[i]);
        }
        PrintStream stdout = System.out;
        try {
            System.setOut(QUIET);
            return org.sefonnx.train.cli.SefOnnxCliTest.run(args.toArray(new String[0]));
        } finally {
            System.setOut(stdout);
        }
    }

    @Test
    void theTableHasThePaperColumnForTheDataSet() {
        Ablation.Settings settings = new Ablation.Settings(42, 32, 0, Path.of("/data/CUB_200_2011"));
        List<Ablation.Outcome> outcomes = List.of(
                new Ablation.Outcome(Ablation.TABLE_III.get(0), Path.of("a"), 50, 41, 0.81, 0.81, 0.80, settings),
                new Ablation.Outcome(Ablation.TABLE_III.get(1), Path.of("b"), 50, 44, 0.82, 0.82, 0.815, settings),
                new Ablation.Outcome(Ablation.TABLE_III.get(4), Path.of("c"), 50, 47, 0.845, 0.845, 0.84, settings));
        String md = Ablation.markdown(Layout.CUB, 18, Protocol.AUTHORS, null, outcomes);
        assertTrue(md.contains("| baseline | λ=0 γ=0 φ=0 | 81.00 | 80.00 | 42 | 50 | 82.3 |"), md);
        assertTrue(md.contains("| grouping | λ=0 γ=0 φ=1 | 82.00 | 81.50 | 45 | 50 | not given |"), md);
        assertTrue(md.contains("| sef | λ=1 γ=0.05 φ=1 | 84.50 | 84.00 | 48 | 50 | 84.8 |"), md);
        assertTrue(md.contains("Selection rule: best epoch by test top-1 (the authors' protocol"), md);
        assertTrue(md.contains("Every row: seed 42, batch size 32, every batch, 50 epochs."), md);
        String csv = Ablation.csv(Layout.CARS, 50, Protocol.AUTHORS, outcomes.subList(2, 3));
        assertTrue(
                csv.endsWith("sef,1,0.05,1,0.845000,0.840000,test,0.845000,48,50,94.0,42,32,0,/data/CUB_200_2011\n"),
                csv);
        List<Ablation.Outcome> mixed = List.of(
                outcomes.get(0),
                new Ablation.Outcome(
                        Ablation.TABLE_III.get(4),
                        Path.of("c"),
                        50,
                        47,
                        0.845,
                        0.845,
                        0.84,
                        new Ablation.Settings(7, 32, 0, Path.of("/data/CUB_200_2011"))));
        assertEquals(
                "The rows differ (kept by --force-rows): baseline: seed 42, batch size 32, every batch, 50 epochs; "
                        + "sef: seed 7, batch size 32, every batch, 50 epochs.",
                Ablation.settingsLine(mixed));
        var e = assertThrows(IllegalArgumentException.class, () -> Ablation.rows("baseline,lambda"));
        assertTrue(e.getMessage().contains("unknown row 'lambda'; the rows are baseline, grouping"), e.getMessage());
    }
}
