package org.sefonnx.train.run.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Progress in a log file: a line every 30 s and the last one, not one per batch or per tenth of the pass. */
class ProgressTest {
    @Test
    void withoutATerminalALineIsPrintedEveryIntervalAndAtTheEnd() {
        AtomicLong now = new AtomicLong();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Progress bar = new Progress(
                new PrintStream(out, true, StandardCharsets.UTF_8), false, "epoch 1/1 train", 100, now::get);
        for (int batch = 1; batch <= 100; batch++) {
            now.addAndGet(1_000_000_000L); // one batch a second
            bar.update(batch, 32, "loss 1.0");
        }
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(4, lines.size(), "at 30, 60 and 90 s and the last batch: " + lines);
        assertTrue(lines.get(0).contains(" 30/100  32.0 img/s  ETA 1:10  loss 1.0"), lines.get(0));
        assertTrue(lines.get(3).contains("[==============================] 100/100"), lines.get(3));
    }

    @Test
    void aShortPassPrintsOnlyItsLastLine() {
        AtomicLong now = new AtomicLong();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Progress bar =
                new Progress(new PrintStream(out, true, StandardCharsets.UTF_8), false, "checking images", 8, now::get);
        for (int done = 1; done <= 8; done++) {
            now.addAndGet(1_000_000_000L);
            bar.update(done, 1, "");
        }
        assertEquals(
                List.of("checking images [==============================] 8/8  1.0 img/s  ETA 0:00"),
                out.toString(StandardCharsets.UTF_8).lines().toList());
    }
}
