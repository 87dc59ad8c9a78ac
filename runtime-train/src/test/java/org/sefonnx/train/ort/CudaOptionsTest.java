package org.sefonnx.train.ort;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.RunProperties;

/** The CUDA provider settings: what reaches ORT's UpdateCUDAProviderOptions, and how a run records them. */
class CudaOptionsTest {
    @Test
    void defaultsPassHeuristicSearchMaxWorkspaceAndTf32AsOrtsOwnDefaults() {
        Map<String, String> m = OrtAdapter.CudaOptions.defaults().providerOptions(0);
        assertEquals(
                List.of("device_id", "cudnn_conv_algo_search", "cudnn_conv_use_max_workspace", "use_tf32"),
                List.copyOf(m.keySet()));
        assertEquals(List.of("0", "HEURISTIC", "1", "1"), List.copyOf(m.values()));
    }

    @Test
    void tf32OffAndExhaustiveSearchReachTheProviderOptions() {
        OrtAdapter.CudaOptions o = OrtAdapter.CudaOptions.defaults()
                .withTf32(false)
                .withMaxWorkspace(false)
                .withConvAlgorithmSearch(OrtAdapter.CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE);
        assertEquals(
                Map.of(
                        "device_id",
                        "2",
                        "cudnn_conv_algo_search",
                        "EXHAUSTIVE",
                        "cudnn_conv_use_max_workspace",
                        "0",
                        "use_tf32",
                        "0"),
                o.providerOptions(2));
        assertEquals("cuDNN conv algorithm search EXHAUSTIVE, max workspace off, TF32 off", o.describe());
    }

    @Test
    void aSessionConfigCarriesItsCudaOptionsThroughEveryCopy() {
        OrtAdapter.CudaOptions exhaustive = OrtAdapter.CudaOptions.defaults()
                .withConvAlgorithmSearch(OrtAdapter.CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE);
        OrtAdapter.SessionConfig cfg = OrtAdapter.SessionConfig.builder(OrtAdapter.Device.CUDA)
                .intraOpThreads(1)
                .cuda(exhaustive)
                .build();
        assertEquals(
                exhaustive,
                cfg.withoutGraphOptimizations().withProfiling(Path.of("p")).cuda());
        assertEquals(
                OrtAdapter.CudaOptions.ConvAlgorithmSearch.DEFAULT,
                cfg.withCuda(OrtAdapter.CudaOptions.defaults()
                                .withConvAlgorithmSearch(OrtAdapter.CudaOptions.ConvAlgorithmSearch.DEFAULT))
                        .withoutGraphOptimizations()
                        .cuda()
                        .convAlgorithmSearch());
    }

    @Test
    void runPropertiesRecordTheCudaSettingsAndReadThemBack() {
        TrainOptions o = TrainOptions.builder(ShippedSpecs.demo(), Path.of("runs/x"))
                .epochs(1)
                .batchSize(32)
                .learningRate(0.01)
                .lrStepEpochs(20)
                .seed(1)
                .device(TrainOptions.Device.CUDA)
                .threads(1)
                .workers(1)
                .cuda(OrtAdapter.CudaOptions.defaults()
                        .withTf32(false)
                        .withConvAlgorithmSearch(OrtAdapter.CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE))
                .build();
        Map<String, String> m = RunProperties.optionsMap(o);
        assertEquals("exhaustive", m.get("cuda.convAlgorithmSearch"));
        assertEquals("false", m.get("cuda.tf32"));
        OrtAdapter.CudaOptions back = RunProperties.cudaFrom(m::get);
        assertEquals(o.compute().cuda(), back);
        assertEquals(
                OrtAdapter.CudaOptions.defaults(),
                RunProperties.cudaFrom(k -> null),
                "runs recorded before these keys");
    }
}
