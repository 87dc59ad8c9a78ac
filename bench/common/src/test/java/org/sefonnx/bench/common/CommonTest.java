package org.sefonnx.bench.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CommonTest {
    @Test
    void simdFlagsKeepOnlyTheKernelChoosingOnesSorted() {
        String zen4 =
                "fpu vme sse2 ssse3 fma cx16 sse4_1 sse4_2 avx f16c avx2 avx512f avx512bw avx512_bf16 amx_tile sha_ni ";
        assertEquals(
                List.of(
                        "amx_tile",
                        "avx",
                        "avx2",
                        "avx512_bf16",
                        "avx512bw",
                        "avx512f",
                        "f16c",
                        "fma",
                        "sse4_1",
                        "sse4_2"),
                Machine.simdFlags(zen4));
    }

    @Test
    void otherCoresIsMachineBusyTimeMinusOursPerSecond() {
        // 300 busy ticks over 2 s of which 100 were ours: 200 ticks = 2 CPU-seconds of others = 1 core
        assertEquals(1.0, Machine.otherCores(new long[] {1000, 50}, new long[] {1300, 150}, 2.0), 1e-12);
        assertEquals(0.0, Machine.otherCores(new long[] {1000, 50}, new long[] {1100, 160}, 1.0), 1e-12);
        assertTrue(Double.isNaN(Machine.otherCores(null, new long[] {1, 1}, 1.0)));
    }

    /** A benchmark with one option, as the benchmarks declare theirs. */
    @CommandLine.Command(name = "bench")
    static final class Bench implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Option(names = "--steps", defaultValue = "5")
        int steps;

        @Override
        public Integer call() {
            return 0;
        }
    }

    @Test
    void aMisspeltOrMalformedOptionIsRefusedNotDefaulted() {
        Bench b = new Bench();
        assertEquals(0, BenchCommand.of(b).execute("--steps", "8"));
        assertEquals(8, b.steps);
        CommandLine cl = BenchCommand.of(new Bench());
        cl.setErr(new java.io.PrintWriter(new java.io.StringWriter()));
        assertEquals(2, cl.execute("--step", "8"), "a misspelt option");
        assertEquals(2, cl.execute("--steps", "eight"), "a value that is not a number");
        assertEquals(2, cl.execute("--steps"), "a missing value");
    }
}
