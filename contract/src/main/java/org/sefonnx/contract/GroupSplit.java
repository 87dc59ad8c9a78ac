package org.sefonnx.contract;

import java.util.Arrays;

/**
 * How SEF splits the C channels of the last feature map into G contiguous groups, in group order (docs/sef-method.md):
 * the generator builds the group heads and the grouping loss on it, the export records it in {@link ExportLayout#MODEL}
 * ({@link ExportLayout#GROUP_SPLIT_METADATA}), and the explain code of both runtimes reads a group's channels from it.
 *
 * @param channels channels of each group, in group order (a copy is kept and returned)
 */
public record GroupSplit(int[] channels) {
    public GroupSplit {
        if (channels.length < 1) throw new IllegalArgumentException("a group split needs at least one group");
        for (int c : channels) {
            if (c < 1) {
                throw new IllegalArgumentException(
                        "every group needs at least one channel, got " + Arrays.toString(channels));
            }
        }
        channels = channels.clone();
    }

    /** SEF's split of {@code featureChannels} into {@code groups}: floor(C/G) each, the last group also takes the remainder. */
    public static GroupSplit even(int featureChannels, int groups) {
        if (groups < 1 || featureChannels < groups) {
            throw new IllegalArgumentException(
                    "cannot split " + featureChannels + " channels into " + groups + " groups of at least one channel");
        }
        int base = featureChannels / groups;
        int[] channels = new int[groups];
        Arrays.fill(channels, base);
        channels[groups - 1] += featureChannels - base * groups;
        return new GroupSplit(channels);
    }

    /** Parses {@link #toText}'s form ({@code 170,170,172}); anything else fails saying what was expected. */
    public static GroupSplit parse(String text) {
        String[] parts = text.strip().split(",", -1);
        int[] channels = new int[parts.length];
        try {
            for (int g = 0; g < parts.length; g++) channels[g] = Integer.parseInt(parts[g].strip());
            return new GroupSplit(channels);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "'" + text + "' is not a group split: expected the channels of each group as positive integers "
                            + "separated by commas, e.g. 256,256",
                    e);
        }
    }

    /** G. */
    public int groups() {
        return channels.length;
    }

    /** C, the channels of all groups together. */
    public int featureChannels() {
        return Arrays.stream(channels).sum();
    }

    @Override
    public int[] channels() {
        return channels.clone();
    }

    /** First channel of each group. */
    public int[] starts() {
        int[] starts = new int[channels.length];
        for (int g = 1; g < channels.length; g++) starts[g] = starts[g - 1] + channels[g - 1];
        return starts;
    }

    /**
     * Group {@code g}'s activation map: the mean over its channels of one image's feature map, whose {@code C x cells}
     * values start at {@code offset} (channel-major, as the graph's NCHW output holds them).
     */
    public float[] map(float[] featureMap, int offset, int cells, int g) {
        int start = starts()[g], count = channels[g];
        float[] map = new float[cells];
        for (int ch = start; ch < start + count; ch++) {
            for (int p = 0; p < cells; p++) map[p] += featureMap[offset + ch * cells + p];
        }
        for (int p = 0; p < cells; p++) map[p] /= count;
        return map;
    }

    /** The channels of each group separated by commas, what the export records. */
    public String toText() {
        StringBuilder text = new StringBuilder();
        for (int g = 0; g < channels.length; g++) text.append(g == 0 ? "" : ",").append(channels[g]);
        return text.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GroupSplit other && Arrays.equals(other.channels, channels);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(channels);
    }

    @Override
    public String toString() {
        return "GroupSplit[" + toText() + "]";
    }
}
