package org.sefonnx.train.run.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Layout;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.options.Protocol;
import org.sefonnx.train.run.options.TrainOptions;

/** run.properties and model.properties: what --resume rebuilds a run from, written and read by one class. */
class RunPropertiesTest {
    @Test
    void everyOptionAndTheProtocolReadBackAsWritten(@TempDir Path dir) throws Exception {
        RunDirectory run = new RunDirectory(dir.resolve("run"));
        Files.createDirectories(run.artifacts());
        ModelSpec spec = ShippedSpecs.demo().toBuilder()
                .lambda(0.5)
                .optimizer(ModelSpec.Optimizer.ADAMW)
                .build();
        // every field away from its default, so a key that is written but not read back shows
        TrainOptions o = TrainOptions.builder(spec, run.root())
                .data(Layout.IMAGEFOLDER, dir.resolve("images"))
                .epochs(7)
                .batchSize(6)
                .learningRate(0.003)
                .lrStepEpochs(3)
                .lrGamma(0.5)
                .seed(11)
                .device(TrainOptions.Device.CPU)
                .threads(3)
                .workers(2)
                .skipBadImages(true)
                .maxBadImages(4)
                .maxBatchesPerEpoch(5)
                .pretrained(dir.resolve("w.safetensors"))
                .applyExifOrientation(true)
                .cuda(OrtAdapter.CudaOptions.defaults().withTf32(false).withMaxWorkspace(false))
                .build();
        Protocol protocol = new Protocol(Protocol.ValSplit.FRACTION, 0.2, Protocol.SelectOn.VAL, true);
        new RunProperties(o, protocol, "ab".repeat(32)).write(run);

        RunProperties back = RunProperties.read(run);
        assertEquals(o, back.options());
        assertEquals(protocol, back.protocol());
        assertEquals("ab".repeat(32), back.pretrainedSha256());
        assertTrue(
                Files.readString(run.runProperties())
                        .startsWith(
                                "# sef-onnx run: options; the model spec is in artifacts/model.properties\ndata.layout=imagefolder\n"));
    }

    @Test
    void aRunMadeBeforeTheProtocolAndCudaKeysReadsWithTheirDefaultsAndADamagedOneIsNamed(@TempDir Path dir)
            throws Exception {
        RunDirectory run = new RunDirectory(dir);
        Files.createDirectories(run.artifacts());
        TrainOptions o = TrainOptions.builder(ShippedSpecs.demo(), dir).build();
        new RunProperties(o, Protocol.AUTHORS, null).write(run);
        List<String> old = Files.readAllLines(run.runProperties()).stream()
                .filter(l -> !l.startsWith("protocol.") && !l.startsWith("cuda."))
                .toList();
        Files.write(run.runProperties(), old);
        RunProperties back = RunProperties.read(run);
        assertEquals(Protocol.AUTHORS, back.protocol());
        assertEquals(OrtAdapter.CudaOptions.defaults(), back.options().compute().cuda());
        assertNull(back.pretrainedSha256());

        Files.writeString(run.runProperties(), String.join("\n", old).replace("epochs=", "epochs=many"));
        InvalidRunException e = assertThrows(InvalidRunException.class, () -> RunProperties.read(run));
        assertTrue(e.getMessage().startsWith(run.runProperties() + " is damaged: "), e.getMessage());
        Files.delete(run.runProperties());
        e = assertThrows(InvalidRunException.class, () -> RunProperties.read(run));
        assertTrue(e.getMessage().contains("is missing"), e.getMessage());
    }
}
