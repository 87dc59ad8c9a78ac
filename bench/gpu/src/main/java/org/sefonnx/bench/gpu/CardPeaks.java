package org.sefonnx.bench.gpu;

import java.util.Locale;

/**
 * Dense (no structured sparsity) peak arithmetic rates of the cards this bench may meet, in TFLOP/s, from NVIDIA's
 * datasheets: H100 SXM5 and H200 SXM (same Hopper chip and clocks): FP32 67, TF32 tensor 494.7, FP16 tensor 989.4
 * (the datasheets print 989 and 1,979 "with sparsity", twice the dense rates); H100 PCIe: 51, 378, 756; A100 SXM/PCIe:
 * 19.5, 156, 312. A throughput's share of peak is img/s × training FLOP per image / the peak of the arithmetic it used.
 */
record CardPeaks(String card, double fp32, double tf32, double fp16) {
    /** The peaks for {@code nvidia-smi}'s card name, or null for a card not in the table. */
    static CardPeaks forCard(String name) {
        String n = name.toUpperCase(Locale.ROOT);
        if (n.contains("H200") || (n.contains("H100") && !n.contains("PCIE")))
            return new CardPeaks(name, 67.0, 494.7, 989.4);
        if (n.contains("H100")) return new CardPeaks(name, 51.0, 378.0, 756.0);
        if (n.contains("A100")) return new CardPeaks(name, 19.5, 156.0, 312.0);
        return null;
    }

    /** The peak of one arithmetic class: fp32 (TF32 off), tf32, fp16. */
    double peak(String arithmetic) {
        return switch (arithmetic) {
            case "fp32" -> fp32;
            case "tf32" -> tf32;
            case "fp16" -> fp16;
            default -> throw new IllegalArgumentException("arithmetic must be fp32, tf32 or fp16, got " + arithmetic);
        };
    }
}
