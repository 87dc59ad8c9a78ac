package org.sefonnx.train.ort;

import org.junit.jupiter.api.Test;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.train.train.TrainOptions;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The CUDA provider settings: what reaches ORT's UpdateCUDAProviderOptions, and how a run records them. */
class CudaOptionsTest {
    @Test
    void defaultsPassHeuristicSearchMaxWorkspaceAndTf32AsOrtsOwnDefaults() {
        Map<String, String> m = OrtAdapter.CudaOptions.defaults().providerOptions(0);
        assertEquals(List.of("device_id", "cudnn_conv_algo_search", "cudnn_conv_use_max_workspace", "use_tf32"), List.copyOf(m.keySet()));
        assertEquals(List.of("0", "HEURISTIC", "1", "1"), List.copyOf(m.values()));
    }

    @Test
    void tf32OffAndExhaustiveSearchReachTheProviderOptions() {
        OrtAdapter.CudaOptions o = OrtAdapter.CudaOptions.defaults().withTf32(false).withMaxWorkspace(false)
                .withConvAlgorithmSearch(OrtAdapter.CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE);
        assertEquals(Map.of("device_id", "2", "cudnn_conv_algo_search", "EXHAUSTIVE", "cudnn_conv_use_max_workspace", "0", "use_tf32", "0"),
                o.providerOptions(2));
        assertEquals("cuDNN conv algorithm search EXHAUSTIVE, max workspace off, TF32 off", o.describe());
    }

    @Test
    void theExhaustiveFlagOfTheOldConstructorStillSelectsExhaustiveSearch() {
        OrtAdapter.SessionConfig cfg = new OrtAdapter.SessionConfig(OrtAdapter.Device.CUDA, 1, 0, true, true);
        assertEquals(OrtAdapter.CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE, cfg.effectiveCuda().convAlgorithmSearch());
        assertEquals(OrtAdapter.CudaOptions.ConvAlgorithmSearch.DEFAULT, cfg.withCuda(OrtAdapter.CudaOptions.defaults()
                .withConvAlgorithmSearch(OrtAdapter.CudaOptions.ConvAlgorithmSearch.DEFAULT)).withoutGraphOptimizations().cuda().convAlgorithmSearch());
    }

    @Test
    void runPropertiesRecordTheCudaSettingsAndReadThemBack() {
        TrainOptions o = new TrainOptions(ShippedSpecs.demo(), null, null, Path.of("runs/x"), 1, 32, 0.01, 20, 0.1, 1,
                TrainOptions.Device.CUDA, 1, 1, false, true, 0, null).withCuda(OrtAdapter.CudaOptions.defaults().withTf32(false));
        Map<String, String> m = o.asMap();
        assertEquals("exhaustive", m.get("cuda.convAlgorithmSearch"));
        assertEquals("false", m.get("cuda.tf32"));
        OrtAdapter.CudaOptions back = TrainOptions.cudaFrom(m::get);
        assertEquals(o.cudaOptions(), back);
        assertEquals(OrtAdapter.CudaOptions.defaults(), TrainOptions.cudaFrom(k -> null), "runs recorded before these keys");
        assertThrows(IllegalArgumentException.class, () -> o.withCuda(OrtAdapter.CudaOptions.defaults()
                .withConvAlgorithmSearch(OrtAdapter.CudaOptions.ConvAlgorithmSearch.DEFAULT)));
    }
}
