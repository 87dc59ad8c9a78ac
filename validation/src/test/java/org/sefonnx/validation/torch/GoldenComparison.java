package org.sefonnx.validation.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sefonnx.generator.weights.SafeTensors;

/** Compares tensors with the golden's float64 entries, prints one line each, and fails once with every miss. */
final class GoldenComparison {
    final SafeTensors.Contents golden;
    final List<String> misses = new ArrayList<>();
    final StringBuilder lines = new StringBuilder();

    GoldenComparison(SafeTensors.Contents golden) {
        this.golden = golden;
    }

    void compare(String key, float[] ours, double tolerance) {
        SafeTensors.Tensor reference = golden.tensor("f64/" + key);
        double[] ref = reference.toDoubles();
        assertEquals(ref.length, ours.length, key + ": " + ours.length + " values, golden has " + reference);
        double error = relativeL2(ours, ref);
        String torch32 = "";
        SafeTensors.Tensor f32 = golden.tensors().get("f32/" + key);
        if (f32 != null)
            torch32 = String.format(
                    Locale.ROOT,
                    "   torch f32 (%s) %.1e",
                    golden.metadata().getOrDefault("f32_device", "?"),
                    relativeL2(f32.toFloats(), ref));
        lines.append(String.format(
                Locale.ROOT, "  %-36s ORT f32 %.1e (tolerance %.0e)%s%n", key, error, tolerance, torch32));
        if (!(error <= tolerance))
            misses.add(String.format(
                    Locale.ROOT, "%s: relative L2 distance to PyTorch float64 %.3e > %.0e", key, error, tolerance));
    }

    void finish(String what) {
        System.out.printf(
                "[torch reference] %s vs %s (torch %s)%n%s",
                what, golden.source(), golden.metadata().get("torch"), lines);
        assertTrue(misses.isEmpty(), String.join("\n", misses));
    }

    static double relativeL2(float[] ours, double[] ref) {
        double diff = 0, norm = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = ours[i] - ref[i];
            diff += d * d;
            norm += ref[i] * ref[i];
        }
        return norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }
}
