package org.sefonnx.bench.common;

import picocli.CommandLine;

/**
 * A benchmark's command line, through picocli as sef-onnx's own: {@code --help} lists every option with its default,
 * and an unknown, misspelt or malformed option is refused with exit code 2 instead of falling back to a default.
 */
public final class BenchCommand {
    private BenchCommand() {}

    /** The command line of {@code command} (a {@code @Command} class with {@code @Option} fields). */
    public static CommandLine of(Object command) {
        return new CommandLine(command).setCaseInsensitiveEnumValuesAllowed(true);
    }

    /** Runs {@code command} on {@code args}; a failure or a refused option ends the JVM with its exit code. */
    public static void run(Object command, String[] args) {
        int code = of(command).execute(args);
        if (code != 0) System.exit(code);
    }
}
