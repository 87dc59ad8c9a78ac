package org.sefonnx.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.generator.artifacts.CheckpointReader;

/**
 * The one committed state of a run, {@code checkpoints/state.properties}: epochs completed, global step, the last and
 * the best checkpoint with their SHA-256, the best epoch's correct/total counts (integers: ties compare exactly) and
 * confusion matrix on the selecting split (test, or validation under {@code --select-on val}; the metrics rows say
 * which), and every epoch's metrics row. It is written atomically after the checkpoints it names and before
 * anything derived from it (metrics files, plots, confusion-best.csv, export, summary), so a run killed at any instant
 * holds a state whose checkpoints are complete, and resume rebuilds the rest from it.
 *
 * @param epochsCompleted epochs the {@code last} checkpoint has trained
 * @param last            run-relative path of the checkpoint to continue from ({@code artifacts/checkpoint} before epoch 1)
 * @param bestEpoch       0-based index of the best epoch so far, -1 before epoch 1
 * @param best            run-relative path of the best epoch's checkpoint; null before epoch 1
 * @param bestConfusion   the best epoch's confusion counts, row-major, comma-separated; empty before epoch 1
 * @param metricsRows     one metrics.jsonl line per completed epoch
 */
public record RunState(
        int epochsCompleted,
        long globalStep,
        String last,
        String lastSha256,
        int bestEpoch,
        String best,
        String bestSha256,
        long bestCorrect,
        long bestTotal,
        String bestConfusion,
        List<String> metricsRows) {
    /** Bumped when the keys change; a state of another format is refused rather than misread. */
    static final int FORMAT = 1;

    static final String FILE = "state.properties";

    public RunState {
        metricsRows = List.copyOf(metricsRows);
        if (metricsRows.size() != epochsCompleted) {
            throw new IllegalArgumentException(
                    epochsCompleted + " epochs completed but " + metricsRows.size() + " metrics rows");
        }
    }

    /** The state of a run before its first epoch: the initial checkpoint, nothing best yet. */
    static RunState initial(RunDirectory run, Path initialCheckpoint) throws IOException {
        return new RunState(
                0, 0, relative(run, initialCheckpoint), sha256(initialCheckpoint), -1, null, null, 0, 0, "", List.of());
    }

    /** True when {@code correct}/{@code total} beats the best so far; an equal accuracy keeps the earlier epoch, as an uninterrupted run does. */
    boolean isBetter(long correct, long total) {
        if (bestTotal == 0) return true;
        // cross-multiplied: no float division whose rounding could call a tie a win
        return correct * bestTotal > bestCorrect * total;
    }

    /** The state after one more epoch. */
    RunState next(String newLast, String newLastSha, long newGlobalStep, ConfusionMatrix eval, String metricsRow) {
        List<String> rows = new ArrayList<>(metricsRows);
        rows.add(metricsRow);
        if (isBetter(eval.correct(), eval.total())) {
            return new RunState(
                    epochsCompleted + 1,
                    newGlobalStep,
                    newLast,
                    newLastSha,
                    epochsCompleted,
                    newLast,
                    newLastSha,
                    eval.correct(),
                    eval.total(),
                    eval.countsLine(),
                    rows);
        }
        return new RunState(
                epochsCompleted + 1,
                newGlobalStep,
                newLast,
                newLastSha,
                bestEpoch,
                best,
                bestSha256,
                bestCorrect,
                bestTotal,
                bestConfusion,
                rows);
    }

    /** The state as it was after the best epoch: what resuming from the best checkpoint continues. */
    RunState rolledBackToBest() {
        if (best == null) throw new IllegalArgumentException("the run has no best checkpoint yet (no epoch completed)");
        long step = EpochMetrics.parseJson(metricsRows.get(bestEpoch)).globalStep();
        return new RunState(
                bestEpoch + 1,
                step,
                best,
                bestSha256,
                bestEpoch,
                best,
                bestSha256,
                bestCorrect,
                bestTotal,
                bestConfusion,
                metricsRows.subList(0, bestEpoch + 1));
    }

    double bestTop1() {
        return bestTotal == 0 ? Double.NaN : bestCorrect / (double) bestTotal;
    }

    List<EpochMetrics> metrics() {
        return metricsRows.stream().map(EpochMetrics::parseJson).toList();
    }

    /** Run-relative paths of the checkpoints this state needs (pruning keeps exactly these). */
    List<String> referencedCheckpoints() {
        return best == null || best.equals(last) ? List.of(last) : List.of(last, best);
    }

    // ---- the file
    // -----------------------------------------------------------------------------------------------------

    static Path file(RunDirectory run) {
        return run.checkpoints().resolve(FILE);
    }

    static boolean exists(RunDirectory run) {
        return Files.isRegularFile(file(run));
    }

    /** Writes the state atomically: the commit point of an epoch. */
    void commit(RunDirectory run) throws IOException {
        StringBuilder sb = new StringBuilder(
                "# sef-onnx run state, written last and atomically; every other file of the run derives from it\n");
        for (Map.Entry<String, String> e : asMap().entrySet())
            sb.append(e.getKey()).append('=').append(e.getValue()).append('\n');
        AtomicFiles.writeDurably(file(run), sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", Integer.toString(FORMAT));
        m.put("epochsCompleted", Integer.toString(epochsCompleted));
        m.put("globalStep", Long.toString(globalStep));
        m.put("last", last);
        m.put("last.sha256", lastSha256);
        if (best != null) {
            m.put("best.epoch", Integer.toString(bestEpoch + 1));
            m.put("best", best);
            m.put("best.sha256", bestSha256);
            m.put("best.correct", Long.toString(bestCorrect));
            m.put("best.total", Long.toString(bestTotal));
            m.put("best.confusion", bestConfusion);
        }
        for (int i = 0; i < metricsRows.size(); i++) m.put("metrics." + (i + 1), metricsRows.get(i));
        return m;
    }

    /** Reads the state of the run in {@code run}; fails naming the file and what to do when it is missing or damaged. */
    static RunState read(RunDirectory run) throws IOException {
        Path f = file(run);
        List<String> lines;
        try {
            lines = Files.readAllLines(f);
        } catch (NoSuchFileException e) {
            String why = Files.exists(run.checkpoints().resolve("last.ckpt"))
                    ? " (it holds checkpoints/last.ckpt of an older sef-onnx, which kept no run state; start a new run)"
                    : Files.isDirectory(run.root()) ? "" : " (the folder does not exist)";
            throw new InvalidRunException(run.root() + " is not a sef-onnx run directory: " + f + " is missing" + why
                    + "; expected the --out folder of `sef-onnx train`");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : lines) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int eq = line.indexOf('=');
            if (eq < 0) throw damaged(f, "line '" + line + "' is not key=value");
            if (m.put(line.substring(0, eq), line.substring(eq + 1)) != null)
                throw damaged(f, "key " + line.substring(0, eq) + " appears twice");
        }
        try {
            if (!Integer.toString(FORMAT).equals(m.get("format")))
                throw damaged(f, "format is " + m.get("format") + ", this sef-onnx reads format " + FORMAT);
            int epochs = Integer.parseInt(required(m, f, "epochsCompleted"));
            List<String> rows = new ArrayList<>();
            for (int i = 1; i <= epochs; i++) rows.add(required(m, f, "metrics." + i));
            boolean hasBest = m.containsKey("best");
            return new RunState(
                    epochs,
                    Long.parseLong(required(m, f, "globalStep")),
                    required(m, f, "last"),
                    required(m, f, "last.sha256"),
                    hasBest ? Integer.parseInt(required(m, f, "best.epoch")) - 1 : -1,
                    hasBest ? m.get("best") : null,
                    hasBest ? required(m, f, "best.sha256") : null,
                    hasBest ? Long.parseLong(required(m, f, "best.correct")) : 0,
                    hasBest ? Long.parseLong(required(m, f, "best.total")) : 0,
                    hasBest ? required(m, f, "best.confusion") : "",
                    rows);
        } catch (IllegalArgumentException e) {
            if (e instanceof InvalidRunException) throw e;
            throw damaged(f, e.getMessage());
        }
    }

    private static String required(Map<String, String> m, Path f, String key) {
        String v = m.get(key);
        if (v == null) throw damaged(f, "key " + key + " is missing");
        return v;
    }

    private static InvalidRunException damaged(Path f, String what) {
        return new InvalidRunException(
                f + " is damaged (" + what + "); it is written atomically, so something else changed it: "
                        + "restore it from a backup or start a new run");
    }

    // ---- checkpoints
    // ----------------------------------------------------------------------------------------------------

    /**
     * The checkpoint {@code which} ({@code last} or {@code best}) resolved and verified: present, its SHA-256 the one
     * committed, parseable, every value finite. A failure names the file and the fallback.
     */
    Path verified(RunDirectory run, String which) throws IOException {
        boolean wantBest = which.equals("best");
        String rel = wantBest ? best : last;
        if (rel == null)
            throw new InvalidRunException(
                    run.root() + " has no best checkpoint yet: no epoch has completed (resume it first)");
        Path file = run.root().resolve(rel);
        String problem = problem(file, wantBest ? bestSha256 : lastSha256);
        if (problem == null) return file;
        throw new InvalidRunException(
                file + " (the " + which + " checkpoint, epoch " + (wantBest ? bestEpoch + 1 : epochsCompleted) + ") "
                        + problem + "; refused. " + fallback(run, wantBest));
    }

    private String fallback(RunDirectory run, boolean wantBest) throws IOException {
        if (!wantBest
                && best != null
                && !best.equals(last)
                && problem(run.root().resolve(best), bestSha256) == null) {
            return "Fallback: the best checkpoint " + best + " (epoch " + (bestEpoch + 1)
                    + ") verifies; continue from it with " + "`sef-onnx train --resume " + run.root()
                    + " --from-best` (epochs " + (bestEpoch + 2) + ".." + epochsCompleted + " are retrained)";
        }
        return "No verified checkpoint is left to fall back to: start a new run with another --out";
    }

    /** Why {@code file} is not the committed checkpoint, or null when it is. */
    static String problem(Path file, String expectedSha) throws IOException {
        if (!Files.isRegularFile(file)) return "is missing";
        byte[] bytes = Files.readAllBytes(file);
        String sha = sha256(bytes);
        String unreadable = null, nonFinite = null;
        try {
            nonFinite = CheckpointReader.firstNonFinite(bytes, file.toString());
        } catch (IllegalArgumentException e) {
            unreadable = e.getMessage();
        }
        if (!sha.equals(expectedSha)) {
            return "has SHA-256 " + sha + " but the run state recorded " + expectedSha
                    + " (the file changed after it was committed" + (unreadable != null ? "; " + unreadable : "") + ")";
        }
        if (unreadable != null) return "cannot be read: " + unreadable;
        return nonFinite == null ? null : "holds a non-finite value at " + nonFinite;
    }

    static String relative(RunDirectory run, Path file) {
        return run.root()
                .toAbsolutePath()
                .normalize()
                .relativize(file.toAbsolutePath().normalize())
                .toString()
                .replace('\\', '/');
    }

    static String sha256(Path file) throws IOException {
        return sha256(Files.readAllBytes(file));
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256, which every Java SE runtime must provide", e);
        }
    }
}
