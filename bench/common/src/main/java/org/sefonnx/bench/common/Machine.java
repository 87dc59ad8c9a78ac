package org.sefonnx.bench.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** What every benchmark reports about the machine it ran on: CPU, SIMD flags, load, and the CPU other processes took. */
public final class Machine {
    /** USER_HZ: the unit of /proc/stat and /proc/self/stat CPU times (100 on Linux x86-64). */
    public static final int TICKS_PER_SECOND = 100;

    private Machine() {}

    /** The machine line every benchmark prints: CPU model, the SIMD flags that pick kernels, cores, JVM. */
    public static String describe() {
        String model = "unknown CPU";
        String flags = "";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name") && model.equals("unknown CPU"))
                    model = l.substring(l.indexOf(':') + 1).trim();
                if (l.startsWith("flags") && flags.isEmpty())
                    flags = l.substring(l.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: the model stays unknown
        }
        return String.format(
                Locale.ROOT,
                "machine: %s, %d cores, SIMD flags [%s], %s %s",
                model,
                Runtime.getRuntime().availableProcessors(),
                String.join(" ", simdFlags(flags)),
                System.getProperty("java.vm.name"),
                System.getProperty("java.version"));
    }

    /** The flags of a /proc/cpuinfo "flags" line that ORT's, MLAS's and oneDNN's kernels choose between, sorted. */
    static List<String> simdFlags(String cpuinfoFlags) {
        return Arrays.stream(cpuinfoFlags.trim().split("\\s+"))
                .filter(f -> f.startsWith("avx")
                        || f.equals("fma")
                        || f.equals("f16c")
                        || f.startsWith("amx")
                        || f.startsWith("sse4"))
                .sorted()
                .toList();
    }

    /** The 1, 5 and 15 minute load averages, or "n/a" where /proc/loadavg cannot be read. */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    /**
     * {busy ticks of the whole machine, ticks of this process}: their difference over a timed phase is the CPU that
     * other processes took while it ran (the load average cannot tell our own threads from theirs). Null where
     * unreadable.
     */
    public static long[] cpuTicks() {
        try {
            String[] m = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8})
                busy += Long.parseLong(m[i]); // user nice system irq softirq steal
            String self = Files.readString(Path.of("/proc/self/stat"));
            String[] f = self.substring(self.lastIndexOf(')') + 2).trim().split("\\s+");
            long own = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime stime (fields 14, 15)
            return new long[] {busy, own};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Cores other processes kept busy between two {@link #cpuTicks()} readings {@code seconds} apart; NaN if either is null. */
    public static double otherCores(long[] before, long[] after, double seconds) {
        if (before == null || after == null) return Double.NaN;
        return Math.max(0, (after[0] - before[0]) - (after[1] - before[1])) / (double) TICKS_PER_SECOND / seconds;
    }
}
