package org.sefonnx.train.cli;

import org.sefonnx.train.run.options.TrainOptions;
import picocli.CommandLine.Option;

/** Where and on how many threads a command trains: shared by `train` and `ablate` so both say it alike. */
public final class ComputeOptions {
    @Option(
            names = "--device",
            defaultValue = "auto",
            converter = EnumOption.Devices.class,
            completionCandidates = EnumOption.Devices.class,
            description = "${COMPLETION-CANDIDATES}: auto is CUDA when the GPU natives and a device are present.")
    TrainOptions.Device device;

    @Option(names = "--threads", defaultValue = "0", description = "ORT intra-op threads (0: one per core).")
    int threads;

    @Option(names = "--workers", defaultValue = "0", description = "Image decoding threads (0: one per core).")
    int workers;
}
