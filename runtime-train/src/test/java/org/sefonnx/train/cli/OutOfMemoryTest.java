package org.sefonnx.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
        // not bad input (2) nor a failed run (1): out of memory has its own exit code, as predict's
        assertEquals(4, SefOnnx.exitCode(e));
    }

    @Test
    void anOutOfMemoryErrorDownACauseChainIsFoundAndNeverTakenForABadImage() {
        // ImageIO's PNG reader wraps the error; the decoder or a loader may wrap that again
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        Exception wrapped = new IllegalStateException(
                "data worker failed", new javax.imageio.IIOException("Caught exception during read: ", oom));
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> OutOfMemory.guard(
                        () -> {
                            throw wrapped;
                        },
                        1));
        assertEquals(oom, e.getCause());
        assertEquals(4, SefOnnx.exitCode(e));
        IllegalArgumentException bad = new IllegalArgumentException("x.png: corrupt image");
        assertEquals(
                bad,
                assertThrows(
                        IllegalArgumentException.class,
                        () -> OutOfMemory.guard(
                                () -> {
                                    throw bad;
                                },
                                1)));
        assertEquals(2, SefOnnx.exitCode(bad));
    }
}
