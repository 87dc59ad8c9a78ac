package org.sefonnx.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's "Embedding the classifier" example, line for line, on the golden export. */
class ReadmeExampleTest {

    @Test
    void readmeExamplePrintsTheTopFiveLabels() throws IOException {
        Path exportDir = GoldenModel.sharedExport();
        Path image = GoldenModel.image("bird_on_branch.jpg");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

        // ---- README ----
        try (SefClassifier classifier = SefClassifier.open(exportDir)) {
            for (Prediction p : classifier.predict(image)) {
                out.printf("%-40s %.3f%n", p.label(), p.probability());
            }
        }
        // ---- end of README ----

        String[] lines = printed.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(5, lines.length);
        assertTrue(lines[0].startsWith("albatross "), lines[0]);
        assertTrue(lines[0].matches("albatross +0[.,]\\d{3}"), lines[0]);
    }
}
