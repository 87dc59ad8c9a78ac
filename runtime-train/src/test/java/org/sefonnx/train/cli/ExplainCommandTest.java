package org.sefonnx.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sef-onnx explain`'s command line: help with defaults, and bad input refused in one line with exit code 2, nothing written. */
class ExplainCommandTest {
    private static String[] run(String... args) {
        return SefOnnxCliTest.run(args);
    }

    @Test
    void helpListsTheOptionsWithDefaults() {
        String[] r = run("explain", "--help");
        assertEquals("0", r[0]);
        assertTrue(
                r[1].contains("Usage: sef-onnx explain")
                        && r[1].contains("--test-samples")
                        && r[1].contains("Default: best"),
                r[1]);
    }

    @Test
    void badInputIsOneLineAndExitCodeTwo(@TempDir Path dir) {
        String[] r = run(
                "explain",
                "--run",
                dir.resolve("none").toString(),
                "--test-samples",
                "3",
                "--out",
                dir.resolve("out").toString());
        assertEquals("2", r[0], r[2]);
        assertTrue(
                r[2].contains("no " + dir.resolve("none")
                        + "/checkpoints/state.properties; give a folder written by `sef-onnx train`"),
                r[2]);
        r = run("explain", "--run", dir.toString(), "--out", dir.resolve("out").toString());
        assertEquals("2", r[0], r[2]);
        assertTrue(
                r[2].contains("give either --images FILE... or --test-samples N (N >= 1), not both and not neither"),
                r[2]);
        assertFalse(Files.exists(dir.resolve("out")));
    }
}
