package org.sefonnx.generator.model;

import org.sefonnx.contract.ArtifactLayout;

/**
 * How a training graph computes its convolutions. Both give the same outputs and gradients (the finite-difference and
 * PyTorch-golden suites check both); they differ in which ONNX Runtime kernels do the work, so the generator emits one
 * training graph per target device and the trainer opens the one for the device it trains on.
 */
public enum ConvLowering {
    /** ONNX Conv forward and com.microsoft ConvGrad backward: cuDNN's kernels on CUDA. */
    CONV(ArtifactLayout.TRAINING_MODEL),
    /**
     * For CPU training: a convolution whose output map has at most {@link #GEMM_MAX_MAP_CELLS} cells becomes whole-batch
     * matrix products: a 3×3 stride-1 one on a map of 3×3 or more Winograd's F(2×2, 3×3) ({@link WinogradConv}), any
     * other im2col (one Gather of every kernel tap's cells) and a single Gemm ({@link Im2colConv}); each is one autodiff
     * composite whose rule is more whole-batch products and the taps or tiles folded back. ORT's CPU Conv and ConvGrad
     * multiply image by image, so on small maps their inner dimension is the map size (4 cells in ResNet-18's last
     * stage at 64 px) and a 2×2-map 3×3 conv ran at 17 GFLOP/s where one batched Gemm runs at several times that
     * (bench/README.md). Larger maps keep Conv/ConvGrad: there a per-image multiply is already large, and the stacked
     * taps would cost k² × the input's memory.
     */
    GEMM(ArtifactLayout.CPU_TRAINING_MODEL);

    /** Output-map cells (H·W) up to which {@link #GEMM} lowers a convolution: a 32×32 map. */
    public static final long GEMM_MAX_MAP_CELLS = 32 * 32;

    private final String trainingModelFile;

    ConvLowering(String trainingModelFile) {
        this.trainingModelFile = trainingModelFile;
    }

    /** The file name of the training model built with this lowering. */
    public String trainingModelFile() {
        return trainingModelFile;
    }

    /**
     * Whether a convolution is lowered to {@link WinogradConv}: a 3×3, stride-1, pad-1 one that {@link #GEMM} lowers,
     * on a map of at least 3×3 cells. A 2×2 map is one tile per image, so the batched products are [Co, C]·[C, N]
     * and the weight transforms (16/9 of the weights, each way) cost more than the 2.25× fewer multiplications save
     * (ResNet-18's last stage at 64 px: 27–39 ms a step per convolution in Winograd, ~27 ms in im2col;
     * bench/README.md).
     */
    public boolean lowersToWinograd(long kernel, int stride, int pad, long outputHeight, long outputWidth) {
        return lowersToGemm(outputHeight, outputWidth)
                && WinogradConv.fits(kernel, stride, pad)
                && outputHeight >= 3
                && outputWidth >= 3;
    }

    /** Whether a convolution with this output map is lowered to im2col + Gemm. */
    public boolean lowersToGemm(long outputHeight, long outputWidth) {
        return this == GEMM && outputHeight * outputWidth <= GEMM_MAX_MAP_CELLS;
    }
}
