package org.sefonnx.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OutOfMemoryTest {
    @Test
    void anOutOfMemoryErrorBecomesARunFailureThatNamesTheHeapAndTheKnobs() {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        IllegalStateException e = OutOfMemory.advice(oom, 2);
        assertEquals(oom, e.getCause());
        String expectedHeap = "the JVM may use " + (Runtime.getRuntime().maxMemory() >> 20) + " MB";
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "out of memory (Java heap space; " + expectedHeap + "): run java with a larger -Xmx"),
                e.getMessage());
        assertTrue(
                e.getMessage().contains("lower --workers (now 2; each decodes one image at a time) or --batch-size"),
                e.getMessage());
        assertTrue(OutOfMemory.advice(oom, 0).getMessage().contains("--workers (now one per core;"));
        // not bad input: the CLI maps IllegalStateException to exit code 1 (run failed), never 2
        assertEquals(IllegalStateException.class, e.getClass());
    }
}
