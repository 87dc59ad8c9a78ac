package org.sefonnx.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.train.cli.SefOnnxCliTest;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.InvalidRunException;

/**
 * A run state changed outside sef-onnx is refused before anything is trained: an edit is named as an edit of
 * checkpoints/state.properties (its digest line), and a state whose digest was made to match again is cross-checked
 * against itself, its checkpoints' own epoch and step, and the split that chose its best epoch.
 */
class TamperedRunStateTest {
    @TempDir
    static Path shared;

    static Path data, two, one;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @BeforeAll
    static void runs() throws Exception {
        data = SmallRun.data(shared);
        two = shared.resolve("two");
        one = shared.resolve("one");
        for (Path out : List.of(two, one)) {
            TrainOptions o = SmallRun.options(data, out, out == two ? 2 : 1, 0.02).toBuilder()
                    .maxBatchesPerEpoch(2)
                    .build();
            new Trainer(o, QUIET).train();
        }
    }

    private static Path state(Path run) {
        return run.resolve("checkpoints/state.properties");
    }

    /** The run's state with {@code edit} applied to its lines; {@code reseal}: its digest line made to match again. */
    private static Path tampered(Path dir, String name, UnaryOperator<List<String>> edit, boolean reseal)
            throws Exception {
        Path run = KillAtEveryCommitStepTest.copyRun(two, dir.resolve(name));
        List<String> lines = new ArrayList<>(Files.readAllLines(state(run)));
        if (reseal) lines.removeIf(l -> l.startsWith("state.sha256="));
        lines = edit.apply(lines);
        String body = String.join("\n", lines) + "\n";
        if (reseal) body += "state.sha256=" + sha256(body.getBytes(StandardCharsets.UTF_8)) + "\n";
        KillAtEveryCommitStepTest.replace(state(run), body.getBytes(StandardCharsets.UTF_8));
        return run;
    }

    /** epochsCompleted 2 -> 1 and its metrics row gone, as a user rolling a run back by hand would edit it. */
    private static final UnaryOperator<List<String>> ROLLED_BACK_BY_HAND = lines -> set("epochsCompleted", "1")
            .apply(lines.stream().filter(l -> !l.startsWith("metrics.2=")).toList());

    private static UnaryOperator<List<String>> set(String key, String value) {
        return lines -> {
            List<String> out = new ArrayList<>();
            for (String l : lines) out.add(l.startsWith(key + "=") ? key + "=" + value : l);
            return out;
        };
    }

    private static String value(Path run, String key) throws Exception {
        for (String l : Files.readAllLines(state(run)))
            if (l.startsWith(key + "=")) return l.substring(key.length() + 1);
        throw new AssertionError(key);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Resumes {@code run} from the command line: exit 2, one line naming the state file and {@code expected}, nothing trained. */
    private static void assertRefused(Path run, String expected) throws Exception {
        byte[] before = Files.readAllBytes(state(run));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        String[] r;
        try {
            System.setOut(new PrintStream(log, true, StandardCharsets.UTF_8));
            r = SefOnnxCliTest.run("train", "--resume", run.toString(), "--epochs", "3");
        } finally {
            System.setOut(stdout);
        }
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains(state(run).toString()), r[2]);
        assertTrue(r[2].contains(expected), "expected '" + expected + "' in: " + r[2]);
        assertEquals(1, r[2].strip().lines().count(), r[2]);
        assertFalse(log.toString(StandardCharsets.UTF_8).contains("resuming"), "refused before it says it resumes");
        assertArrayEquals(before, Files.readAllBytes(state(run)));
        assertFalse(Files.exists(run.resolve("checkpoints/epoch-0003.ckpt")), "nothing trained");
    }

    @Test
    void anEditedStateIsNamedAsAnEditOfTheStateFile(@TempDir Path dir) throws Exception {
        String edited = "was changed after sef-onnx wrote it";
        // epochsCompleted 2 -> 1, as a user rolling a run back by hand
        assertRefused(tampered(dir, "epochs", ROLLED_BACK_BY_HAND, false), edited);
        // the last checkpoint's recorded hash: the state is blamed, not the checkpoint file
        String sha = value(two, "last.sha256");
        String flipped = (sha.charAt(0) == 'a' ? "b" : "a") + sha.substring(1);
        Path hash = tampered(dir, "hash", set("last.sha256", flipped), false);
        assertRefused(hash, edited);
        // a garbage metrics row
        assertRefused(tampered(dir, "row", set("metrics.2", "{not json"), false), edited);
        // best.correct 9 of 8
        assertRefused(tampered(dir, "correct", set("best.correct", "31"), false), edited);
    }

    @Test
    void aStateMadeToMatchItsDigestIsCrossCheckedAgainstItselfItsCheckpointsAndTheSplit(@TempDir Path dir)
            throws Exception {
        String contradicts = "contradicts itself";
        // epochsCompleted 2 -> 1 while last still names epoch 2's checkpoint
        assertRefused(
                tampered(dir, "epochs", ROLLED_BACK_BY_HAND, true),
                "last=checkpoints/epoch-0002.ckpt but the checkpoint after epochsCompleted=1 is checkpoints/epoch-0001.ckpt");
        // more correct than scored
        long total = Long.parseLong(value(two, "best.total"));
        assertRefused(
                tampered(dir, "correct", set("best.correct", Long.toString(total + 1)), true),
                "best.correct=" + (total + 1) + " of best.total=" + total);
        // a metrics row that is not one, named by its key before "resuming" is printed
        assertRefused(tampered(dir, "row", set("metrics.2", "{not json"), true), "metrics.2 is not a metrics row");

        // counts that hold together but exceed the test split (3 images per class): every count doubled
        String confusion = value(two, "best.confusion");
        StringBuilder doubled = new StringBuilder();
        for (String c : confusion.split(","))
            doubled.append(doubled.length() == 0 ? "" : ",").append(2 * Long.parseLong(c));
        long correct = Long.parseLong(value(two, "best.correct"));
        Path big = tampered(
                dir,
                "split",
                lines -> set("best.confusion", doubled.toString())
                        .apply(set("best.correct", Long.toString(2 * correct))
                                .apply(set("best.total", Long.toString(2 * total))
                                        .apply(lines))),
                true);
        assertRefused(big, "but the test split has 3");

        // last pointing at another verified checkpoint, with that checkpoint's hash: epoch 1's of a 1-epoch run
        Path epochOne = one.resolve("checkpoints/epoch-0001.ckpt");
        String epochOneSha = sha256(Files.readAllBytes(epochOne));
        Path other = tampered(
                dir,
                "other",
                lines -> set("last", "checkpoints/epoch-0001.ckpt")
                        .apply(set("last.sha256", epochOneSha).apply(lines)),
                true);
        Files.deleteIfExists(other.resolve("checkpoints/epoch-0001.ckpt"));
        Files.copy(epochOne, other.resolve("checkpoints/epoch-0001.ckpt"));
        assertRefused(
                other,
                "last=checkpoints/epoch-0001.ckpt but the checkpoint after epochsCompleted=2 is checkpoints/epoch-0002.ckpt");
        // the same file under epoch 2's name (the last checkpoint is verified first): its own property bag says after
        // which epoch and step it was saved
        Path renamed = tampered(dir, "renamed", set("last.sha256", epochOneSha), true);
        Path target = renamed.resolve("checkpoints/epoch-0002.ckpt");
        Files.delete(target);
        Files.copy(epochOne, target);
        InvalidRunException e = assertThrows(InvalidRunException.class, () -> Trainer.resume(renamed, 3, QUIET));
        assertTrue(
                e.getMessage().contains("was saved after epoch 1 (global step 2), not after epoch 2 (global step 4)"),
                e.getMessage());
    }
}
