package org.sefonnx.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

public class SefOnnxCliTest {
    public static String[] run(String... args) {
        CommandLine cl = SefOnnx.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void everySubcommandShowsItsDefaultsInHelp() {
        for (String sub : new String[] {"generate", "train", "ablate", "eval", "export"}) {
            String[] r = run(sub, "--help");
            assertEquals("0", r[0], sub);
            assertTrue(r[1].contains("Usage: sef-onnx " + sub), r[1]);
        }
        String train = run("train", "--help")[1];
        assertTrue(
                train.contains("Default: 0.1")
                        && train.contains("Default: auto")
                        && train.contains("Default: runs/sef-onnx"),
                train);
    }

    @Test
    void ablateNeedsTheSpecOfADataSetThePaperDidNotUse() {
        String[] r = run(
                "ablate",
                "--data",
                "/nonexistent",
                "--layout",
                "imagefolder",
                "--depth",
                "18",
                "--out",
                "/nonexistent-ablation");
        assertEquals("2", r[0]);
        assertTrue(
                r[2].contains("--layout imagefolder has no paper spec: give --classes, --groups and --image-size"),
                r[2]);
        r = run(
                "ablate",
                "--data",
                "/nonexistent",
                "--layout",
                "cub",
                "--depth",
                "34",
                "--out",
                "/nonexistent-ablation");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--depth must be 18 or 50 (the paper's backbones), got 34"), r[2]);
        r = run(
                "ablate",
                "--data",
                "/nonexistent",
                "--layout",
                "cub",
                "--depth",
                "18",
                "--rows",
                "sef,sef",
                "--out",
                "/nonexistent-ablation");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--rows names sef twice"), r[2]);
    }

    @Test
    void badInputIsOneLineAndExitCodeTwo() {
        String[] r = run("train", "--data", "/nonexistent", "--layout", "birds");
        assertEquals("2", r[0]);
        assertTrue(
                r[2].contains("--layout must be one of cub, cars, dogs, aircraft, imagefolder, idx; got 'birds'"),
                r[2]);
        r = run("train", "--data", "/nonexistent");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--data needs --layout"), r[2]);
        r = run("export", "--run", "/nonexistent-run");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("does not exist"), r[2]);
    }

    @Test
    void cudaAndPrecisionOptionsParseIntoTheTrainCommand() {
        TrainCommand c = new TrainCommand();
        new CommandLine(c)
                .parseArgs(
                        "--no-tf32",
                        "--no-cudnn-max-workspace",
                        "--cudnn-conv-algo-search",
                        "exhaustive",
                        "--precision",
                        "fp16");
        assertEquals(false, c.tf32);
        assertEquals(false, c.cudnnMaxWorkspace);
        assertEquals(org.sefonnx.train.ort.OrtAdapter.CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE, c.convAlgoSearch);
        TrainCommand defaults = new TrainCommand();
        new CommandLine(defaults).parseArgs();
        assertEquals(true, defaults.tf32);
        assertEquals(true, defaults.cudnnMaxWorkspace);
        assertEquals(org.sefonnx.train.ort.OrtAdapter.CudaOptions.defaults(), defaults.cudaOptions());
        // --cudnn-exhaustive is short for the exhaustive search, folded into the one CudaOptions the run records
        TrainCommand exhaustive = new TrainCommand();
        new CommandLine(exhaustive).parseArgs("--cudnn-exhaustive", "--no-tf32");
        assertEquals(
                org.sefonnx.train.ort.OrtAdapter.CudaOptions.defaults()
                        .withTf32(false)
                        .withConvAlgorithmSearch(
                                org.sefonnx.train.ort.OrtAdapter.CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE),
                exhaustive.cudaOptions());
        TrainCommand both = new TrainCommand();
        new CommandLine(both).parseArgs("--cudnn-exhaustive", "--cudnn-conv-algo-search", "default");
        IllegalArgumentException contradiction =
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, both::cudaOptions);
        assertTrue(contradiction.getMessage().contains("contradicts"), contradiction.getMessage());
        String[] r = run("train", "--cudnn-conv-algo-search", "fastest", "--epochs", "1");
        assertEquals("2", r[0]);
        assertTrue(
                r[2].contains("--cudnn-conv-algo-search must be one of heuristic, exhaustive, default; got 'fastest'"),
                r[2]);
    }

    @Test
    void enumOptionsListTheirValuesInHelpAndRefuseOthersInOneLine() {
        String train = run("train", "--help")[1].replaceAll("\\s+", " ");
        assertTrue(train.contains("Layout of --data: cub, cars, dogs, aircraft, imagefolder, idx."), train);
        assertTrue(train.contains("auto, cpu, cuda: auto is CUDA"), train);
        assertTrue(train.contains("sgd-momentum, adamw (default: sgd-momentum"), train);
        assertTrue(train.contains("fp32, fp16: fp32 (default)"), train);
        assertTrue(train.contains("fraction, official: fraction"), train);
        assertTrue(train.contains("val, test: pick the best epoch"), train);
        assertTrue(train.contains("heuristic, exhaustive, default"), train);
        assertTrue(train.contains("ignore, apply: ignore"), train);
        assertTrue(run("export", "--help")[1].contains("onnx, safetensors"));
        // any case, '_' for '-': the words the spec files spell
        TrainCommand c = new TrainCommand();
        new CommandLine(c).parseArgs("--optimizer", "SGD_MOMENTUM", "--layout", "CUB", "--data", "x");
        assertEquals(org.sefonnx.generator.model.ModelSpec.Optimizer.SGD_MOMENTUM, c.spec.optimizer);
        assertEquals(org.sefonnx.train.data.Layout.CUB, c.layout);
        // no validation split is asked for by giving none
        String[] r = run("train", "--val-split", "none");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--val-split must be one of fraction, official; got 'none'"), r[2]);
        assertEquals(1, r[2].strip().lines().count(), r[2]);
        r = run("train", "--epoch", "3");
        assertEquals("2", r[0]);
        assertTrue(r[2].startsWith("sef-onnx train: Unknown option") && r[2].contains("'--epoch'"), r[2]);
        assertTrue(r[2].contains("see `sef-onnx train --help`"), r[2]);
        assertEquals(1, r[2].strip().lines().count(), r[2]);
    }
}
