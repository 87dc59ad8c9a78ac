package org.sefonnx.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.train.run.explain.Explainer;
import org.sefonnx.train.run.explain.RunReport;
import org.sefonnx.train.run.metrics.EpochMetrics;

/** A finished run's report.html, its explain pass and the per-epoch group metrics, on the tiny 32-px run. */
class RunReportTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @Test
    void reportIsSelfContainedAndHoldsEverySection(@TempDir Path dir) throws IOException {
        PrintStream quiet = new PrintStream(PrintStream.nullOutputStream());
        Trainer.Result r =
                new Trainer(SmallRun.options(SmallRun.data(dir), dir.resolve("run"), 1, 0.01), quiet).train();
        Path report = r.run().root().resolve(RunReport.FILE);
        String html = Files.readString(report);
        assertTrue(html.startsWith("<!DOCTYPE html>"), "doctype");
        assertTrue(html.strip().endsWith("</html>"), "closed");
        for (String id : List.of("run-options", "curves", "per-class", "confusion", "correlation", "group-maps")) {
            assertTrue(html.contains("id=\"" + id + "\""), "section " + id);
        }
        // no network: every image is an inline PNG, nothing is fetched
        assertFalse(
                html.contains("http://")
                        || html.contains("https://")
                        || html.contains("<script")
                        || html.contains("<link"),
                "external reference");
        Matcher img = Pattern.compile("<img alt=\"([^\"]*)\" src=\"([^\"]*)\">").matcher(html);
        List<String> alts = new ArrayList<>();
        while (img.find()) {
            assertTrue(img.group(2).startsWith("data:image/png;base64,"), img.group(1));
            byte[] png = Base64.getDecoder().decode(img.group(2).substring("data:image/png;base64,".length()));
            byte[] head = new byte[8];
            System.arraycopy(png, 0, head, 0, 8);
            assertArrayEquals(PNG_MAGIC, head, img.group(1));
            alts.add(img.group(1));
        }
        // 4 curves (loss, accuracy, groups, learning rate), the confusion and correlation heat maps, 8 sample images
        assertEquals(4 + 2 + RunReport.SAMPLE_IMAGES, alts.size(), alts.toString());
        assertTrue(alts.contains("groups.png"), alts.toString());

        // per-class table: worst first
        Matcher row = Pattern.compile(
                        "<tr><td style=\"text-align:left\">[^<]*</td><td>\\d+</td><td>\\d+</td><td>\\d+</td><td>([0-9.]+)%</td></tr>")
                .matcher(html);
        List<Double> accuracies = new ArrayList<>();
        while (row.find()) accuracies.add(Double.parseDouble(row.group(1)));
        assertEquals(10, accuracies.size());
        for (int i = 1; i < accuracies.size(); i++)
            assertTrue(accuracies.get(i - 1) <= accuracies.get(i), accuracies.toString());

        // per-epoch group metrics in metrics.jsonl, and the same numbers from an explain pass over the whole test split
        EpochMetrics last = EpochMetrics.parseJson(
                Files.readAllLines(r.run().metricsJsonl()).get(0));
        assertEquals(2, last.groups().groupTop1().length);
        Explainer.Result all = Explainer.explain(
                new Explainer.Request(r.run().root(), "last", List.of(), 30, true, dir.resolve("explain")), quiet);
        assertEquals(30, all.correlation().images());
        // the graph's block sums (GroupMetrics) and the Java squared cosines (ChannelCorrelation) agree
        assertEquals(all.groupTop1().intraSquaredCosine(), all.correlation().intra(), 1e-4);
        assertEquals(all.groupTop1().interSquaredCosine(), all.correlation().inter(), 1e-4);
        assertEquals(last.groups().intraSquaredCosine(), all.correlation().intra(), 1e-4);
        assertArrayEquals(
                last.groups().groupTop1(), all.groupTop1().groupTop1(), 1e-6); // metrics rows keep 6 significant digits
        for (String f : List.of(
                Explainer.CORRELATION_PNG,
                Explainer.CORRELATION_CSV,
                Explainer.CORRELATION_JSON,
                Explainer.GROUP_ACCURACY_CSV)) {
            assertTrue(Files.size(dir.resolve("explain").resolve(f)) > 0, f);
        }
        assertEquals(
                30,
                Files.list(dir.resolve("explain").resolve(Explainer.IMAGES_DIR)).count());
    }
}
