package org.sefonnx.train.run.explain;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunState;

/**
 * {@code report.html} of a run: one self-contained page (every image inline as a data URI, no script, no network) with
 * the run's options and spec, the metric curves, per-class accuracy worst first, the confusion matrix as a heat map,
 * and, from an explain pass, the channel-correlation matrix and group activation maps of a fixed test sample.
 */
public final class RunReport {
    public static final String FILE = "report.html";
    /** Test images shown with their group maps: enough to see a pattern, few enough to keep the page small. */
    public static final int SAMPLE_IMAGES = 8;

    private RunReport() {}

    /** Writes {@code run/report.html} from the run's files and {@code explained} (an explain pass over the test sample). */
    public static Path write(RunDirectory run, Explainer.Result explained) throws IOException {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sef-onnx run ")
                .append(esc(run.root().getFileName().toString()))
                .append(
                        "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}"
                                + "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#eee}img{max-width:100%}"
                                + "pre{background:#f6f6f6;padding:8px}</style></head><body>\n");
        h.append("<h1>sef-onnx run report</h1>\n<p>")
                .append(esc(run.root().toAbsolutePath().toString()))
                .append("</p>\n");
        section(h, "options", "run-options");
        h.append("<pre>").append(esc(readOrEmpty(run.runProperties()))).append("</pre>\n");
        h.append("<h3>model spec</h3><pre>")
                .append(esc(readOrEmpty(run.artifacts().resolve(ArtifactLayout.SPEC))))
                .append("</pre>\n");
        if (Files.exists(run.summary()))
            h.append("<h3>summary</h3><pre>")
                    .append(esc(readOrEmpty(run.summary())))
                    .append("</pre>\n");

        section(h, "curves", "curves");
        for (EpochMetrics.Chart chart : EpochMetrics.Chart.values()) {
            Path p = run.plots().resolve(chart.file);
            if (Files.exists(p)) image(h, Files.readAllBytes(p), chart.file);
        }

        List<String> classes = explained.classNames();
        long[][] confusion = readConfusion(run.bestConfusionMatrix(), classes.size());
        section(h, "per-class accuracy of the best epoch on the split it was selected on (worst first)", "per-class");
        h.append("<table><tr><th>class</th><th>index</th><th>correct</th><th>images</th><th>accuracy</th></tr>\n");
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < classes.size(); i++) order.add(i);
        order.sort(Comparator.comparingDouble((Integer i) -> accuracy(confusion[i], i))
                .thenComparing(i -> i));
        for (int i : order) {
            long total = 0;
            for (long v : confusion[i]) total += v;
            h.append(String.format(
                    Locale.ROOT,
                    "<tr><td style=\"text-align:left\">%s</td><td>%d</td><td>%d</td><td>%d</td><td>%.2f%%</td></tr>%n",
                    esc(classes.get(i)),
                    i,
                    confusion[i][i],
                    total,
                    100 * accuracy(confusion[i], i)));
        }
        h.append("</table>\n");

        section(h, "confusion matrix of the best epoch (confusion-best.csv)", "confusion");
        image(h, Pictures.png(Pictures.confusionHeatMap(confusion)), "confusion matrix");
        h.append("<p>classes: ");
        for (int i = 0; i < classes.size(); i++)
            h.append(i).append(" = ").append(esc(classes.get(i))).append(i + 1 < classes.size() ? ", " : "");
        h.append("</p>\n");

        ChannelCorrelation q = explained.correlation();
        section(h, "channel correlation (mean squared cosine, channels in group order)", "correlation");
        image(h, Files.readAllBytes(explained.outDir().resolve(Explainer.CORRELATION_PNG)), "channel correlation");
        double[] blocks = q.blockMeans();
        int groups = (int) Math.round(Math.sqrt(blocks.length));
        h.append("<table><tr><th></th>");
        for (int g = 0; g < groups; g++) h.append("<th>group ").append(g).append("</th>");
        h.append("</tr>\n");
        for (int g = 0; g < groups; g++) {
            h.append("<tr><th>group ").append(g).append("</th>");
            for (int c = 0; c < groups; c++)
                h.append(String.format(Locale.ROOT, "<td>%.4f</td>", blocks[g * groups + c]));
            h.append("</tr>\n");
        }
        h.append(String.format(
                Locale.ROOT,
                "</table><p>over %d test images: intra-group %.4f, inter-group %.4f, gap %.4f</p>%n",
                q.images(),
                q.intra(),
                q.inter(),
                q.intra() - q.inter()));

        section(h, "group activation maps of " + explained.images().size() + " test images", "group-maps");
        for (Explainer.Explained e : explained.images()) image(h, Files.readAllBytes(e.png()), e.source());
        h.append("</body></html>\n");
        Path file = run.root().resolve(FILE);
        AtomicFiles.writeString(file, h.toString());
        return file;
    }

    /**
     * The listener that ends a run with its report, after the training session is closed (the explain pass opens its
     * own): what explain contributes to a training run.
     */
    public static TrainingListener listener(RunDirectory run, PrintStream log) {
        return new TrainingListener() {
            @Override
            public void runClosed(RunState state) throws IOException {
                writeForRun(run, log);
            }
        };
    }

    /** The end of a run: an explain pass over {@link #SAMPLE_IMAGES} test images of the best checkpoint into run/explain, then the page. */
    public static Path writeForRun(RunDirectory run, PrintStream log) throws IOException {
        Explainer.Result explained = Explainer.explain(
                new Explainer.Request(
                        run.root(),
                        "best",
                        List.of(),
                        SAMPLE_IMAGES,
                        false,
                        run.root().resolve(EXPLAIN_DIR)),
                log);
        Path file = write(run, explained);
        log.println("report: " + file);
        return file;
    }

    /** Folder of the end-of-run explain pass inside the run. */
    public static final String EXPLAIN_DIR = "explain";

    private static double accuracy(long[] row, int truth) {
        long total = 0;
        for (long v : row) total += v;
        return total == 0 ? Double.NaN : row[truth] / (double) total;
    }

    /** confusion-best.csv as ConfusionMatrix#write lays it out: a header row, then one row per true class, label first. */
    static long[][] readConfusion(Path csv, int classes) throws IOException {
        long[][] counts = new long[classes][classes];
        if (!Files.exists(csv)) return counts;
        List<String> lines = Files.readAllLines(csv);
        for (int t = 0; t < classes && t + 1 < lines.size(); t++) {
            String[] cells = lines.get(t + 1).split(",");
            for (int p = 0; p < classes; p++) counts[t][p] = Long.parseLong(cells[cells.length - classes + p].strip());
        }
        return counts;
    }

    private static void section(StringBuilder h, String title, String id) {
        h.append("<h2 id=\"").append(id).append("\">").append(esc(title)).append("</h2>\n");
    }

    private static void image(StringBuilder h, byte[] png, String alt) {
        h.append("<p><img alt=\"")
                .append(esc(alt))
                .append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png))
                .append("\"></p>\n");
    }

    private static String readOrEmpty(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p) : "";
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
