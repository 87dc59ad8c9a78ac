package org.sefonnx.bench.gpu;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The bench's rows, one tab-separated line each in one file that every process of a run appends to (run.sh's
 * sections, each its own JVM, torch_bench.py, run.sh itself): section, configuration, img/s, arithmetic or share,
 * result. A row is written and flushed the moment it is measured, so a run killed at the call's limit still returns
 * every row measured before; {@link #print} turns the file into the table.
 */
final class Rows {
    /** The arithmetic tokens a throughput row names in its fourth field; the table turns them into peak shares. */
    static final List<String> ARITHMETIC = List.of("fp32", "tf32", "fp16");

    private final Path file;
    private final PrintStream echo;

    Rows(Path file, PrintStream echo) {
        this.file = file;
        this.echo = echo;
    }

    /** A throughput: {@code imagesPerSecond} is every timing of the configuration ("191.2, 193.0"). */
    void throughput(
            String section, String configuration, List<Double> imagesPerSecond, String arithmetic, String note) {
        if (!ARITHMETIC.contains(arithmetic)) throw new IllegalArgumentException("arithmetic " + arithmetic);
        List<String> rates = new ArrayList<>();
        for (double r : imagesPerSecond) rates.add(String.format(Locale.ROOT, "%.1f", r));
        append(section, configuration, String.join(", ", rates), arithmetic, note);
    }

    /** A check or a finding: no throughput. */
    void result(String section, String configuration, String result) {
        append(section, configuration, "", "", result);
    }

    /** A configuration that did not run or did not finish: the reason is the result. */
    void failed(String section, String configuration, String why) {
        append(section, configuration, "-", "", why);
    }

    private void append(String section, String configuration, String rates, String arithmetic, String note) {
        String line = String.join("\t", clean(section), clean(configuration), rates, arithmetic, clean(note)) + "\n";
        try {
            Files.writeString(
                    file,
                    line,
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE,
                    StandardOpenOption.SYNC);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append a row to " + file, e);
        }
        echo.printf(Locale.ROOT, "ROW | %s | %s | %s | %s | %s%n", section, configuration, rates, arithmetic, note);
        echo.flush();
    }

    private static String clean(String s) {
        return s.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }

    /**
     * Prints the rows file as one table; throughputs get their share of the card's dense peak from
     * {@code flopPerImage} (the throughput model's training FLOP per image), averaged over their timings.
     */
    static void print(Path rowsFile, String card, double flopPerImage, boolean dryRun, PrintStream out)
            throws IOException {
        CardPeaks peaks = CardPeaks.forCard(card);
        List<String[]> lines = new ArrayList<>();
        if (Files.exists(rowsFile)) {
            for (String l : Files.readAllLines(rowsFile, StandardCharsets.UTF_8)) {
                if (l.isBlank() || l.startsWith("#")) continue;
                String[] f = l.split("\t", -1);
                if (f.length != 5) {
                    lines.add(new String[] {"?", "malformed row", "", "", l});
                    continue;
                }
                f[3] = ARITHMETIC.contains(f[3]) ? share(peaks, f[2], f[3], flopPerImage) : f[3];
                lines.add(f);
            }
        }
        out.printf(
                Locale.ROOT,
                "sef-onnx GPU bench%s on %s; training FLOP per image of the throughput model: %.1f GFLOP%n",
                dryRun ? " (DRY RUN on the CPU, tiny shapes: no figure below is a GPU measurement)" : "",
                card,
                flopPerImage / 1e9);
        out.println(
                peaks == null
                        ? "dense peaks: card not in CardPeaks, shares not computed"
                        : String.format(
                                Locale.ROOT,
                                "dense peaks (NVIDIA datasheet, TFLOP/s): FP32 %.1f, TF32 %.1f, FP16 %.1f",
                                peaks.fp32(),
                                peaks.tf32(),
                                peaks.fp16()));
        String[] head = {"section", "configuration", "img/s", "share of dense peak", "result / note"};
        int[] w = new int[4];
        for (int i = 0; i < 4; i++) w[i] = head[i].length();
        for (String[] l : lines) for (int i = 0; i < 4; i++) w[i] = Math.max(w[i], l[i].length());
        String fmt = "%-" + w[0] + "s | %-" + w[1] + "s | %" + w[2] + "s | %-" + w[3] + "s | %s%n";
        out.printf(Locale.ROOT, fmt, (Object[]) head);
        out.println("-".repeat(w[0] + w[1] + w[2] + w[3] + 30));
        for (String[] l : lines) out.printf(Locale.ROOT, fmt, (Object[]) l);
        if (lines.isEmpty()) out.println("(no rows: nothing was measured; run.log says why)");
    }

    private static String share(CardPeaks peaks, String rates, String arithmetic, double flopPerImage) {
        if (peaks == null) return arithmetic + ", n/a";
        double sum = 0;
        int n = 0;
        for (String r : rates.split(",")) {
            if (r.isBlank()) continue;
            sum += Double.parseDouble(r.trim());
            n++;
        }
        if (n == 0) return arithmetic;
        double tflops = sum / n * flopPerImage / 1e12;
        return String.format(
                Locale.ROOT,
                "%.1f%% of %s %.1f",
                100 * tflops / peaks.peak(arithmetic),
                arithmetic.toUpperCase(Locale.ROOT),
                peaks.peak(arithmetic));
    }
}
