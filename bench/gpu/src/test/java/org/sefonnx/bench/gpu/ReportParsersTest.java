package org.sefonnx.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GPU run's readers of ORT's profile, cuDNN's log and Nsight Compute's CSV, on small hand-written samples. */
class ReportParsersTest {
    @TempDir
    Path dir;

    @Test
    void ortProfileSkipsTheWarmUpRunAndSumsNodesPerOpType() throws Exception {
        String json = "[\n"
                + "{\"cat\":\"Session\",\"name\":\"model_run\",\"ts\":0,\"dur\":100,\"args\":{}},\n"
                + "{\"cat\":\"Node\",\"name\":\"conv1_kernel_time\",\"ts\":10,\"dur\":90,"
                + "\"args\":{\"op_name\":\"Conv\",\"provider\":\"CUDAExecutionProvider\"}},\n"
                + "{\"cat\":\"Session\",\"name\":\"model_run\",\"ts\":200,\"dur\":50,\"args\":{}},\n"
                + "{\"cat\":\"Node\",\"name\":\"conv1_fence_before\",\"ts\":201,\"dur\":0,\"args\":{\"op_name\":\"Conv\"}},\n"
                + "{\"cat\":\"Node\",\"name\":\"conv1_kernel_time\",\"ts\":201,\"dur\":30,"
                + "\"args\":{\"op_name\":\"Conv\",\"provider\":\"CUDAExecutionProvider\"}},\n"
                + "{\"cat\":\"Node\",\"name\":\"copy_kernel_time\",\"ts\":232,\"dur\":10,"
                + "\"args\":{\"op_name\":\"MemcpyToHost\",\"provider\":\"CUDAExecutionProvider\"}},\n"
                + "{\"cat\":\"Node\",\"name\":\"shape_kernel_time\",\"ts\":243,\"dur\":2,"
                + "\"args\":{\"op_name\":\"Shape\",\"provider\":\"CPUExecutionProvider\"}}\n]";
        Path f = dir.resolve("p.json");
        Files.writeString(f, json);
        ProfileSummary p = ProfileSummary.read(f, 1);
        assertEquals(1, p.runs);
        assertEquals(50, p.runMicros, 1e-9);
        assertEquals(42, p.nodeMicros(), 1e-9);
        assertEquals(
                List.of("Conv", "MemcpyToHost", "Shape"), List.copyOf(p.byOp().keySet()));
        assertEquals(1, p.offProvider("CUDAExecutionProvider").get("Shape on CPUExecutionProvider"));
        String h = p.headline("CUDAExecutionProvider");
        assertTrue(h.contains("Conv 71%") && h.contains("Memcpy nodes 1 a run (23.8% of node time)"), h);
    }

    @Test
    void cudnnLogCountsEachConvolutionByAlgorithmAndMathType() throws Exception {
        String log = "I! CuDNN (v91500 17) function cudnnConvolutionForward() called:\n"
                + "i!     convDesc: type=cudnnConvolutionDescriptor_t:\n"
                + "i!         mathType: type=cudnnMathType_t; val=CUDNN_FMA_MATH (3);\n"
                + "i!     algo: type=cudnnConvolutionFwdAlgo_t; val=CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM (1);\n"
                + "I! CuDNN (v91500 17) function cudnnConvolutionBackwardFilter() called:\n"
                + "i!         mathType: type=cudnnMathType_t; val=CUDNN_TENSOR_OP_MATH (1);\n"
                + "i!     algo: type=cudnnConvolutionBwdFilterAlgo_t; val=CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1 (1);\n"
                + "I! CuDNN (v91500 17) function cudnnConvolutionForward() called:\n"
                + "i!         mathType: type=cudnnMathType_t; val=CUDNN_FMA_MATH (3);\n"
                + "i!     algo: type=cudnnConvolutionFwdAlgo_t; val=CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM (1);\n"
                + "I! CuDNN (v91500 17) function cudnnSetStream() called:\n";
        Path f = dir.resolve("cudnn.log");
        Files.writeString(f, log);
        CudnnLog c = CudnnLog.read(f);
        assertEquals(
                2,
                c.convolutions.get(
                        "cudnnConvolutionForward CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM CUDNN_FMA_MATH"));
        assertEquals(
                1,
                c.convolutions.get(
                        "cudnnConvolutionBackwardFilter CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1 CUDNN_TENSOR_OP_MATH"));
        assertEquals(1, c.functions.get("cudnnSetStream"));
        assertTrue(c.headline().startsWith("convolution calls by algorithm: cudnnConvolutionForward"));
    }

    @Test
    void nsightCsvIsReadWithItsUnitRowAndGroupedIntoKernelClasses() throws Exception {
        String csv = "==PROF== Connected to process 1\n"
                + "\"ID\",\"Kernel Name\",\"gpu__time_duration.sum\"\n"
                + "\"\",\"\",\"usecond\"\n"
                + "\"0\",\"sm90_xmma_fprop_implicit_gemm_tf32f32\",\"1,000.00\"\n"
                + "\"1\",\"sm90_xmma_wgrad_implicit_gemm\",\"3000\"\n"
                + "\"2\",\"void onnxruntime::cuda::_BinaryElementWise<float>\",\"500\"\n"
                + "\"3\",\"sm90_xmma_fprop_implicit_gemm_tf32f32\",\"1000\"\n";
        Path f = dir.resolve("ncu.csv");
        Files.writeString(f, csv);
        KernelTimes k = KernelTimes.read(f);
        assertEquals(4, k.launches.size());
        assertEquals(5.5e6, k.totalNanos(), 1e-3);
        assertEquals(
                List.of("conv weight gradient", "conv forward", "element-wise"),
                List.copyOf(k.grouped(true).keySet()));
        assertTrue(
                k.headline(2).startsWith("2 launches, GPU time 2.8 ms a step: conv weight gradient 55%"),
                k.headline(2));
    }

    @Test
    void demoVerdictJudgesFp16AgainstTheFp32Spread() {
        assertTrue(DemoVerdict.of(List.of(0.70, 0.72), List.of(0.735, 0.74)).startsWith("PASS"));
        // fp32 runs 70 and 72 (spread 2): allowed 68..74; an fp16 mean of 75 is outside
        assertTrue(DemoVerdict.of(List.of(0.70, 0.72), List.of(0.75, 0.75)).startsWith("FAIL"));
        // identical fp32 runs still leave half a point
        assertTrue(DemoVerdict.of(List.of(0.70, 0.70), List.of(0.704)).startsWith("PASS"));
        assertTrue(DemoVerdict.of(List.of(0.70, 0.70), List.of(0.71)).startsWith("FAIL"));
        assertTrue(DemoVerdict.of(List.of(0.70), List.of(0.70)).startsWith("NO VERDICT"));
    }

    @Test
    void equivalenceVerdictSetsTheGapAgainstTheRepeat() {
        var agree = Equivalence.Gap.of(List.of(terms(1), terms(1)), List.of(terms(1), terms(1.0000001)));
        var late = Equivalence.Gap.of(List.of(terms(1), terms(1), terms(1)), List.of(terms(1), terms(1), terms(1.01)));
        var early =
                Equivalence.Gap.of(List.of(terms(1), terms(1), terms(1)), List.of(terms(1), terms(1.01), terms(1.02)));
        assertTrue(Equivalence.verdict(agree, agree).startsWith("PASS"));
        assertEquals(1, early.firstOver());
        assertTrue(Equivalence.verdict(late, early).startsWith("WITHIN NOISE"));
        assertTrue(Equivalence.verdict(early, late).startsWith("FAIL: beyond the noise floor from step 1"));
    }

    private static float[] terms(double v) {
        return new float[] {(float) v, (float) v, (float) v, (float) v, (float) v};
    }

    @Test
    void rowsAreFlushedAsTheyComeAndPrintedWithPeakShares() throws Exception {
        Path f = dir.resolve("rows.tsv");
        ByteArrayOutputStream echo = new ByteArrayOutputStream();
        Rows rows = new Rows(f, new PrintStream(echo, true, StandardCharsets.UTF_8));
        rows.throughput("throughput", "fp32", List.of(100.0, 110.0), "tf32", "note");
        assertEquals(1, Files.readAllLines(f).size());
        rows.failed("throughput", "fp16", "FAILED: OutOfMemoryError: x");
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        Rows.print(f, "NVIDIA H100 80GB HBM3", 1e11, false, new PrintStream(table, true, StandardCharsets.UTF_8));
        String t = table.toString(StandardCharsets.UTF_8);
        // 105 img/s x 100 GFLOP = 10.5 TFLOP/s of TF32's 494.7
        assertTrue(t.contains("100.0, 110.0 | 2.1% of TF32 494.7"), t);
        assertTrue(t.contains("FAILED: OutOfMemoryError"), t);
    }
}
