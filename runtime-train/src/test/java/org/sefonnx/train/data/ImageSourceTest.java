package org.sefonnx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.RgbImage;

class ImageSourceTest {

    @Test
    void idxGrayImageBecomesRgbByReplication() {
        try (ImageDecoder decoder = new ImageDecoder()) {
            RgbImage image = new ImageSource.Gray("mem", 0, 2, 1, new byte[] {7, (byte) 200}).decode(decoder);
            assertEquals(7, image.get(0, 0, 2));
            assertEquals(200, image.get(1, 0, 0));
            assertEquals(200, image.get(1, 0, 2));
        }
    }

    @Test
    void fileSourceIsDecodedFromDisk() {
        try (ImageDecoder decoder = new ImageDecoder()) {
            RgbImage image = new ImageSource.File(Fixtures.data("imagefolder/train/dog/d.png")).decode(decoder);
            assertEquals(24, image.width());
            assertEquals(20, image.height());
        }
    }
}
