package org.sefonnx.train.run.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The CPU estimate: the week the paper's recipe takes on a 2-core CPU is said once, with the way to a GPU. */
class RunEstimateTest {
    @Test
    void theCubRecipeOnATwoCoreCpuIsAWeekAndTheDemoIsNotWorthALine() {
        // CUB at ResNet-50 448 px: 5,994 train and 5,794 test images, 50 epochs, 0.6 img/s training (measured)
        Optional<String> cub = RunEstimate.line(0.6, 50L * 5994, 50L * 5794, 50, 50);
        // (299,700 + 289,700 / 3) / 0.6 s = 660,444 s
        assertEquals(
                Optional.of(
                        "estimate: 7 days 15 h for the whole run's 50 epochs on this CPU (0.60 img/s training); on a"
                                + " CUDA GPU (ResNet-50 at 448 px: 192 img/s on one H100) build with `mvn -Pcuda` (CUDA 13,"
                                + " cuDNN 9) and train with --device cuda"),
                cub);
        assertTrue(RunEstimate.line(0.6, 10L * 5994, 10L * 5794, 10, 50)
                .orElseThrow()
                .contains("the 10 epochs left"));
        // the demo: 6 epochs of 2,000 + 1,000 images at ~120 img/s
        assertEquals(Optional.empty(), RunEstimate.line(120, 6L * 2000, 6L * 1000, 6, 6));
        assertEquals("47 min", RunEstimate.duration(47 * 60));
        assertEquals("3 h 12 min", RunEstimate.duration(3 * 3600 + 12 * 60));
        assertEquals("1 day 0 h", RunEstimate.duration(86_400));
    }
}
