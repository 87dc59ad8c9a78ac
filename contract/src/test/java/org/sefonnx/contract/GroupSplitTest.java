package org.sefonnx.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GroupSplitTest {
    @Test
    void theLastGroupTakesTheRemainder() {
        GroupSplit three = GroupSplit.even(512, 3);
        assertArrayEquals(new int[] {170, 170, 172}, three.channels());
        assertArrayEquals(new int[] {0, 170, 340}, three.starts());
        assertEquals(512, three.featureChannels());
        assertEquals(3, three.groups());
        assertArrayEquals(new int[] {1024, 1024}, GroupSplit.even(2048, 2).channels());
    }

    @Test
    void textRoundTripsAndBadTextSaysWhatWasExpected() {
        GroupSplit split = new GroupSplit(new int[] {100, 412});
        assertEquals("100,412", split.toText());
        assertEquals(split, GroupSplit.parse(" 100, 412 "));
        for (String bad : new String[] {"", "256,,256", "256;256", "0,512", "-1,513", "a"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GroupSplit.parse(bad));
            assertTrue(e.getMessage().contains("expected the channels of each group"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> GroupSplit.even(2, 3));
    }

    @Test
    void aGroupsMapIsTheMeanOfItsChannels() {
        // one image, C = 3 channels of 2 cells, after 1 padding value; groups {0} and {1, 2}
        float[] features = {99, 1, 2, 3, 5, 7, 11};
        GroupSplit split = new GroupSplit(new int[] {1, 2});
        assertArrayEquals(new float[] {1, 2}, split.map(features, 1, 2, 0), 0f);
        assertArrayEquals(new float[] {5, 8}, split.map(features, 1, 2, 1), 0f);
    }

    @Test
    void softmaxIsShiftedAndSumsToOne() {
        double[] p = Softmax.of(new float[] {0, 1000, 1001, 1000}, 1, 3);
        double e = Math.exp(1);
        assertArrayEquals(new double[] {1 / (2 + e), e / (2 + e), 1 / (2 + e)}, p, 1e-15);
        assertEquals(1, Softmax.argmax(p));
        assertEquals(0, Softmax.argmax(new double[] {0.5, 0.5}));
    }
}
