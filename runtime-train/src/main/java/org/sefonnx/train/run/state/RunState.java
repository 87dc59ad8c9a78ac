package org.sefonnx.train.run.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.train.run.metrics.ConfusionMatrix;
import org.sefonnx.train.run.metrics.EpochMetrics;

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
    static final int FORMAT = 2;
    /** The format before the digest line: read without it (runs of an earlier sef-onnx), cross-checked all the same. */
    static final int UNSEALED_FORMAT = 1;
    /** The file's name under checkpoints/. */
    static final String FILE = "state.properties";
    /** Keys: the format, the digest line (the file's last), and the prefix of the metrics rows (metrics.1, …). */
    static final String FORMAT_KEY = "format", DIGEST_KEY = "state.sha256", METRICS_KEY = "metrics.";
    /** Metrics rows write numbers with 6 significant digits ({@link EpochMetrics#toJson}). */
    private static final double METRICS_PRECISION = 1e-5;

    public RunState {
        metricsRows = List.copyOf(metricsRows);
        if (metricsRows.size() != epochsCompleted) {
            throw new IllegalArgumentException(
                    epochsCompleted + " epochs completed but " + metricsRows.size() + " metrics rows");
        }
    }

    /** The state of a run before its first epoch: the initial checkpoint, nothing best yet. */
    public static RunState initial(RunDirectory run, Path initialCheckpoint) throws IOException {
        return new RunState(
                0, 0, relative(run, initialCheckpoint), sha256(initialCheckpoint), -1, null, null, 0, 0, "", List.of());
    }

    /** True when {@code correct}/{@code total} beats the best so far; an equal accuracy keeps the earlier epoch, as an uninterrupted run does. */
    public boolean isBetter(long correct, long total) {
        if (bestTotal == 0) return true;
        // cross-multiplied: no float division whose rounding could call a tie a win
        return correct * bestTotal > bestCorrect * total;
    }

    /** The state after one more epoch. */
    public RunState next(
            String newLast, String newLastSha, long newGlobalStep, ConfusionMatrix eval, String metricsRow) {
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
    public RunState rolledBackToBest() {
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

    public double bestTop1() {
        return bestTotal == 0 ? Double.NaN : bestCorrect / (double) bestTotal;
    }

    public List<EpochMetrics> metrics() {
        return metricsRows.stream().map(EpochMetrics::parseJson).toList();
    }

    /** Run-relative paths of the checkpoints this state needs (pruning keeps exactly these). */
    public List<String> referencedCheckpoints() {
        return best == null || best.equals(last) ? List.of(last) : List.of(last, best);
    }

    // ---- the file
    // -----------------------------------------------------------------------------------------------------

    static Path file(RunDirectory run) {
        return run.checkpoints().resolve(FILE);
    }

    public static boolean exists(RunDirectory run) {
        return Files.isRegularFile(file(run));
    }

    /** Writes the state atomically: the commit point of an epoch. */
    public void commit(RunDirectory run) throws IOException {
        StringBuilder sb = new StringBuilder(
                "# sef-onnx run state, written last and atomically; every other file of the run derives from it\n");
        for (Map.Entry<String, String> e : asMap().entrySet())
            sb.append(e.getKey()).append('=').append(e.getValue()).append('\n');
        AtomicFiles.writeDurably(file(run), sealed(sb.toString()).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * {@code body} with its digest line appended: the SHA-256 of the body's UTF-8 bytes. An edit of the file (by hand,
     * by a script, by another tool) then reads as an edit of the state, not as a damaged checkpoint or a wrong epoch.
     */
    static String sealed(String body) {
        return body + DIGEST_KEY + "=" + sha256(body.getBytes(StandardCharsets.UTF_8)) + "\n";
    }

    Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(FORMAT_KEY, Integer.toString(FORMAT));
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
        for (int i = 0; i < metricsRows.size(); i++) m.put(METRICS_KEY + (i + 1), metricsRows.get(i));
        return m;
    }

    /**
     * Reads the state of the run in {@code run}: its digest verified (an edited file is named as one), every key known,
     * every metrics row parsed, and the values cross-checked against each other ({@link #requireConsistent}). Fails
     * naming the file and what to do when it is missing, edited or damaged.
     */
    public static RunState read(RunDirectory run) throws IOException {
        Path f = file(run);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            throw new InvalidRunException(run.root() + " is not a sef-onnx run directory: " + f + " is missing"
                    + whyMissing(run) + "; expected the --out folder of `sef-onnx train`");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw edited(f, "it is not UTF-8 text");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int eq = line.indexOf('=');
            if (eq < 0) throw edited(f, "line '" + line + "' is not key=value");
            if (m.put(line.substring(0, eq), line.substring(eq + 1)) != null)
                throw edited(f, "key " + line.substring(0, eq) + " appears twice");
        }
        String format = m.get(FORMAT_KEY);
        if (Integer.toString(FORMAT).equals(format)) {
            requireDigest(f, text, m.get(DIGEST_KEY));
        } else if (!Integer.toString(UNSEALED_FORMAT).equals(format)) {
            throw damaged(
                    f, "format is " + format + ", this sef-onnx reads formats " + UNSEALED_FORMAT + " and " + FORMAT);
        }
        RunState state;
        try {
            int epochs = Integer.parseInt(required(m, f, "epochsCompleted"));
            List<String> rows = new ArrayList<>();
            for (int i = 1; i <= epochs; i++) rows.add(required(m, f, METRICS_KEY + i));
            boolean hasBest = m.containsKey("best");
            state = new RunState(
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
        Map<String, String> unknown = new LinkedHashMap<>(m);
        unknown.keySet().removeAll(state.asMap().keySet());
        unknown.remove(DIGEST_KEY);
        if (!unknown.isEmpty())
            throw damaged(
                    f,
                    "keys " + unknown.keySet() + " are not part of a state after " + state.epochsCompleted + " epochs");
        state.requireConsistent(run, f);
        return state;
    }

    private static String whyMissing(RunDirectory run) {
        if (Files.exists(run.checkpoints().resolve("last.ckpt")))
            return " (it holds checkpoints/last.ckpt of an older sef-onnx, which kept no run state; start a new run)";
        if (UnfinishedStart.isOne(run))
            return " (it holds a start that was stopped before its first epoch began: run the same `sef-onnx train"
                    + " --out " + run.root() + "` command again, without --resume, and it starts over)";
        return Files.isDirectory(run.root()) ? "" : " (the folder does not exist)";
    }

    /** The digest line must be the file's last and match the bytes before it ({@link #sealed}). */
    private static void requireDigest(Path f, String text, String digest) {
        String marker = DIGEST_KEY + "=";
        int at = text.lastIndexOf(marker);
        if (digest == null || at < 0 || (at > 0 && text.charAt(at - 1) != '\n'))
            throw edited(f, "its " + DIGEST_KEY + " line is missing");
        if (!text.substring(at).strip().equals(marker + digest))
            throw edited(f, "lines follow its " + DIGEST_KEY + " line");
        String actual = sha256(text.substring(0, at).getBytes(StandardCharsets.UTF_8));
        if (!actual.equals(digest))
            throw edited(f, "its content hashes to " + actual + ", not to the " + DIGEST_KEY + " sef-onnx wrote");
    }

    /**
     * The values agree with each other: a metrics row per epoch numbered in order, the global step and best epoch the
     * rows record, the checkpoint names an epoch count gives, best counts within 0..total that the confusion matrix
     * adds up to. A state that passes its digest and fails this was written by something other than sef-onnx.
     */
    private void requireConsistent(RunDirectory run, Path f) {
        List<EpochMetrics> rows = new ArrayList<>();
        for (int i = 0; i < metricsRows.size(); i++) {
            try {
                rows.add(EpochMetrics.parseJson(metricsRows.get(i)));
            } catch (IllegalArgumentException e) {
                throw damaged(f, METRICS_KEY + (i + 1) + " is not a metrics row: " + e.getMessage());
            }
            if (rows.get(i).epoch() != i)
                throw inconsistent(
                        f,
                        METRICS_KEY + (i + 1) + " is the row of epoch "
                                + (rows.get(i).epoch() + 1));
        }
        String expectedLast = epochsCompleted == 0
                ? relative(run, run.initialCheckpoint())
                : relative(run, run.epochCheckpoint(epochsCompleted));
        if (!last.equals(expectedLast))
            throw inconsistent(
                    f,
                    "last=" + last + " but the checkpoint after epochsCompleted=" + epochsCompleted + " is "
                            + expectedLast);
        long rowStep = rows.isEmpty() ? 0 : rows.get(rows.size() - 1).globalStep();
        if (globalStep != rowStep)
            throw inconsistent(
                    f, "globalStep=" + globalStep + " but the last metrics row ends at global step " + rowStep);
        if (best == null) {
            if (epochsCompleted > 0) throw inconsistent(f, epochsCompleted + " epochs completed but no best epoch");
            return;
        }
        if (bestEpoch < 0 || bestEpoch >= epochsCompleted)
            throw inconsistent(
                    f, "best.epoch=" + (bestEpoch + 1) + " is not one of the " + epochsCompleted + " epochs completed");
        String expectedBest = relative(run, run.epochCheckpoint(bestEpoch + 1));
        if (!best.equals(expectedBest))
            throw inconsistent(
                    f, "best=" + best + " but the checkpoint of best.epoch=" + (bestEpoch + 1) + " is " + expectedBest);
        if (bestTotal <= 0 || bestCorrect < 0 || bestCorrect > bestTotal)
            throw inconsistent(f, "best.correct=" + bestCorrect + " of best.total=" + bestTotal);
        long[] counts = confusionCounts(f);
        int k = (int) Math.round(Math.sqrt(counts.length));
        long total = 0, diagonal = 0;
        for (int i = 0; i < counts.length; i++) {
            total += counts[i];
            if (i / k == i % k) diagonal += counts[i];
        }
        if (total != bestTotal || diagonal != bestCorrect)
            throw inconsistent(
                    f,
                    "best.confusion adds up to " + diagonal + " correct of " + total + ", not best.correct="
                            + bestCorrect + " of best.total=" + bestTotal);
        EpochMetrics lastRow = rows.get(rows.size() - 1);
        if (lastRow.bestEpoch() != bestEpoch || Math.abs(lastRow.bestTop1() - bestTop1()) > METRICS_PRECISION)
            throw inconsistent(
                    f,
                    String.format(
                            Locale.ROOT,
                            "best.epoch=%d with %d/%d but the last metrics row has best epoch %d at %.6f",
                            bestEpoch + 1,
                            bestCorrect,
                            bestTotal,
                            lastRow.bestEpoch() + 1,
                            lastRow.bestTop1()));
    }

    /** The best confusion matrix's counts, K×K; fails naming the key when it is not. */
    private long[] confusionCounts(Path f) {
        String[] cells = bestConfusion.split(",");
        int k = (int) Math.round(Math.sqrt(cells.length));
        if (k * k != cells.length) throw inconsistent(f, "best.confusion has " + cells.length + " counts, not K×K");
        long[] counts = new long[cells.length];
        for (int i = 0; i < cells.length; i++) {
            try {
                counts[i] = Long.parseLong(cells[i].strip());
            } catch (NumberFormatException e) {
                throw inconsistent(f, "best.confusion holds '" + cells[i] + "', not a count");
            }
            if (counts[i] < 0) throw inconsistent(f, "best.confusion holds the negative count " + counts[i]);
        }
        return counts;
    }

    /**
     * The best counts fit the split that chose them: {@code imagesPerClass[c]} images of class c (the test split, or
     * the validation split under --select-on val); checked on resume, where the data set is open.
     */
    public void requireFitsSplit(RunDirectory run, int[] imagesPerClass, String split) {
        if (best == null) return;
        Path f = file(run);
        long[] counts = confusionCounts(f);
        int k = imagesPerClass.length;
        if (counts.length != (long) k * k)
            throw inconsistent(
                    f,
                    "best.confusion has " + counts.length + " counts but the model has " + k + " classes (" + k * k
                            + " counts)");
        long images = 0;
        for (int c = 0; c < k; c++) {
            long row = 0;
            for (int j = 0; j < k; j++) row += counts[c * k + j];
            images += imagesPerClass[c];
            if (row > imagesPerClass[c])
                throw inconsistent(
                        f,
                        "best.confusion counts " + row + " images of class " + c + " but the " + split + " split has "
                                + imagesPerClass[c]);
        }
        if (bestTotal > images)
            throw inconsistent(f, "best.total=" + bestTotal + " but the " + split + " split has " + images + " images");
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

    private static InvalidRunException edited(Path f, String what) {
        return new InvalidRunException(
                f + " was changed after sef-onnx wrote it (" + what
                        + "): the run state is written only by sef-onnx, after the checkpoints it names, so an edited one "
                        + "cannot be trusted. Undo the edit (restore the file from a backup) or start a new run with another --out");
    }

    private static InvalidRunException inconsistent(Path f, String what) {
        return new InvalidRunException(f + " contradicts itself (" + what
                + "): it was written by something other than sef-onnx. Restore it from a backup or start a new run");
    }

    // ---- checkpoints
    // ----------------------------------------------------------------------------------------------------

    /**
     * The checkpoint {@code which} ({@code last} or {@code best}) resolved and verified: present, its SHA-256 the one
     * committed, parseable, every value finite. A failure names the file and the fallback.
     */
    public Path verified(RunDirectory run, String which) throws IOException {
        boolean wantBest = which.equals("best");
        String rel = wantBest ? best : last;
        if (rel == null)
            throw new InvalidRunException(
                    run.root() + " has no best checkpoint yet: no epoch has completed (resume it first)");
        Path file = run.root().resolve(rel);
        String problem = wantBest ? bestProblem(run) : problem(file, lastSha256, epochsCompleted, globalStep);
        if (problem == null) return file;
        throw new InvalidRunException(
                file + " (the " + which + " checkpoint, epoch " + (wantBest ? bestEpoch + 1 : epochsCompleted) + ") "
                        + problem + "; refused. " + fallback(run, wantBest));
    }

    private String fallback(RunDirectory run, boolean wantBest) throws IOException {
        if (!wantBest && best != null && !best.equals(last) && bestProblem(run) == null) {
            return "Fallback: the best checkpoint " + best + " (epoch " + (bestEpoch + 1)
                    + ") verifies; continue from it with " + "`sef-onnx train --resume " + run.root()
                    + " --from-best` (epochs " + (bestEpoch + 2) + ".." + epochsCompleted + " are retrained)";
        }
        return "No verified checkpoint is left to fall back to: start a new run with another --out";
    }

    private String bestProblem(RunDirectory run) throws IOException {
        long stepAtBest = EpochMetrics.parseJson(metricsRows.get(bestEpoch)).globalStep();
        return problem(run.root().resolve(best), bestSha256, bestEpoch + 1, stepAtBest);
    }

    /**
     * Why {@code file} is not the checkpoint the state committed after {@code epochs} epochs and {@code step} steps, or
     * null when it is: its SHA-256, its structure, finite values, and the epoch count and global step the trainer wrote
     * into its property bag (absent in the initial checkpoint: 0).
     */
    static String problem(Path file, String expectedSha, int epochs, long step) throws IOException {
        if (!Files.isRegularFile(file)) return "is missing";
        byte[] bytes = Files.readAllBytes(file);
        String sha = sha256(bytes);
        String unreadable = null, nonFinite = null;
        Map<String, Long> properties = Map.of();
        try {
            nonFinite = CheckpointReader.firstNonFinite(bytes, file.toString());
            properties = CheckpointReader.read(bytes, file.toString(), false).intProperties();
        } catch (IllegalArgumentException e) {
            unreadable = e.getMessage();
        }
        if (!sha.equals(expectedSha)) {
            return "has SHA-256 " + sha + " but the run state recorded " + expectedSha
                    + " (the file changed after it was committed" + (unreadable != null ? "; " + unreadable : "") + ")";
        }
        if (unreadable != null) return "cannot be read: " + unreadable;
        if (nonFinite != null) return "holds a non-finite value at " + nonFinite;
        long savedEpochs = properties.getOrDefault(RunCommits.PROP_EPOCHS_DONE, 0L),
                savedStep = properties.getOrDefault(RunCommits.PROP_GLOBAL_STEP, 0L);
        if (savedEpochs != epochs || savedStep != step) {
            return "was saved after epoch " + savedEpochs + " (global step " + savedStep + "), not after epoch "
                    + epochs + " (global step " + step + ") as " + FILE
                    + " says: the run state names the wrong file, so it was changed outside sef-onnx; restore it from a backup";
        }
        return null;
    }

    public static String relative(RunDirectory run, Path file) {
        return run.root()
                .toAbsolutePath()
                .normalize()
                .relativize(file.toAbsolutePath().normalize())
                .toString()
                .replace('\\', '/');
    }

    public static String sha256(Path file) throws IOException {
        return sha256(Files.readAllBytes(file));
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256, which every Java SE runtime must provide", e);
        }
    }
}
