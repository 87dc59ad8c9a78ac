package org.sefonnx.train.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The sef-onnx command line: generate | train | ablate | eval | export | explain. */
@Command(
        name = "sef-onnx",
        mixinStandardHelpOptions = true,
        version = "sef-onnx 0.1.0",
        description =
                "Train and export SEF fine-grained classifiers (Luo et al., IEEE SPL 2020) on ONNX Runtime, in pure Java.",
        subcommands = {
            GenerateCommand.class,
            TrainCommand.class,
            AblateCommand.class,
            EvalCommand.class,
            ExportCommand.class,
            ExplainCommand.class
        })
public final class SefOnnx {
    /**
     * Exit codes: 0 done, 1 the run failed (diverged, I/O), 2 bad usage or input, 3 the int8 accuracy gate refused the
     * int8 model (the float32 export and the gate's report are written), 4 out of memory (as predict's).
     */
    public static final int EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_INT8_REFUSED = 3, EXIT_OUT_OF_MEMORY = 4;

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SefOnnx());
        // bad options in one line, as every other bad input: the option, what it takes, where the help is
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            String message = e.getCause() instanceof CommandLine.TypeConversionException conversion
                            && e.getArgSpec() instanceof CommandLine.Model.OptionSpec option
                    ? option.longestName() + " " + conversion.getMessage()
                    : e.getMessage();
            cmd.getErr()
                    .println("sef-onnx " + cmd.getCommandName() + ": " + message + " (see `"
                            + cmd.getCommandSpec().qualifiedName() + " --help`)");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((e, cmd, parse) -> {
            cmd.getErr()
                    .println("sef-onnx " + cmd.getCommandName() + ": "
                            + (e.getMessage() == null ? e.toString() : e.getMessage()));
            if (System.getenv("SEF_ONNX_DEBUG") != null) e.printStackTrace(cmd.getErr());
            return exitCode(e);
        });
        return cl;
    }

    /**
     * The exit code of a command that failed with {@code e}: bad input (options, a data set or image that cannot be
     * used, a folder that is not a run, a damaged checkpoint) is 2, a heap too small 4, anything else 1.
     */
    static int exitCode(Exception e) {
        if (e instanceof OutOfMemory.Failure) return EXIT_OUT_OF_MEMORY;
        boolean usage = e instanceof IllegalArgumentException
                || e instanceof java.nio.file.NoSuchFileException
                || e instanceof org.sefonnx.train.data.DatasetFormatException
                || e instanceof org.sefonnx.imaging.ImageDecodeException;
        return usage ? EXIT_USAGE : EXIT_FAILED;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
