package org.sefonnx.train.run.metrics;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.sefonnx.contract.AtomicFiles;

/** Counts of (true class, predicted class) over a test pass; top-1 and mean per-class accuracy come from it. */
public final class ConfusionMatrix {
    private final long[][] counts;

    public ConfusionMatrix(int classes) {
        counts = new long[classes][classes];
    }

    public void add(int truth, int predicted) {
        counts[truth][predicted]++;
    }

    /** Adds a batch: argmax of each row of {@code logits} [n, K] against {@code labels}. */
    public void addBatch(float[] logits, long[] labels) {
        int k = counts.length;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
            add((int) labels[i], best);
        }
    }

    public long total() {
        long n = 0;
        for (long[] row : counts) for (long c : row) n += c;
        return n;
    }

    /** Images on the diagonal: exact, so best-epoch ties compare as integers. */
    public long correct() {
        long correct = 0;
        for (int i = 0; i < counts.length; i++) correct += counts[i][i];
        return correct;
    }

    public double top1() {
        long n = total();
        return n == 0 ? Double.NaN : correct() / (double) n;
    }

    /** The counts row-major, comma-separated (the run state stores the best epoch's this way). */
    public String countsLine() {
        StringBuilder sb = new StringBuilder();
        for (long[] row : counts)
            for (long c : row) sb.append(sb.length() == 0 ? "" : ",").append(c);
        return sb.toString();
    }

    /** Parses {@link #countsLine()} for {@code classes} classes. */
    public static ConfusionMatrix fromCountsLine(int classes, String line) {
        String[] parts = line.split(",");
        if (parts.length != classes * classes) {
            throw new IllegalArgumentException("confusion counts: " + parts.length + " values for " + classes
                    + " classes, expected " + classes * classes);
        }
        ConfusionMatrix m = new ConfusionMatrix(classes);
        for (int i = 0; i < parts.length; i++) m.counts[i / classes][i % classes] = Long.parseLong(parts[i]);
        return m;
    }

    /** Mean over classes that occur in the test set of each class's accuracy (FGVC-Aircraft's official metric). */
    public double meanClassAccuracy() {
        double sum = 0;
        int present = 0;
        for (int i = 0; i < counts.length; i++) {
            long row = 0;
            for (long c : counts[i]) row += c;
            if (row == 0) continue;
            sum += counts[i][i] / (double) row;
            present++;
        }
        return present == 0 ? Double.NaN : sum / present;
    }

    public long count(int truth, int predicted) {
        return counts[truth][predicted];
    }

    /** CSV with a header row of predicted class names and one row per true class. */
    public void write(Path file, List<String> classNames) throws IOException {
        StringBuilder sb = new StringBuilder("true\\predicted");
        for (String n : classNames) sb.append(',').append(csvCell(n));
        sb.append('\n');
        for (int i = 0; i < counts.length; i++) {
            sb.append(csvCell(classNames.get(i)));
            for (long c : counts[i]) sb.append(',').append(c);
            sb.append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    /** A CSV cell, quoted when it holds a comma or a quote (RFC 4180). */
    public static String csvCell(String s) {
        return s.contains(",") || s.contains("\"") ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }
}
