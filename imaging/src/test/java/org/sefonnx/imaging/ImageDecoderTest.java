package org.sefonnx.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDecoderTest {
    private static final String CUB = "cub/CUB_200_2011/images/";

    private static int maxAbsDifference(RgbImage image, byte[] reference) {
        assertEquals(reference.length, image.pixels().length);
        int max = 0;
        for (int i = 0; i < reference.length; i++) {
            max = Math.max(max, Math.abs((image.pixels()[i] & 0xFF) - (reference[i] & 0xFF)));
        }
        return max;
    }

    @Test
    void colourJpegMatchesPillowDecodeWithinOneLevel() throws IOException {
        try (ImageDecoder decoder = new ImageDecoder()) {
            RgbImage image = decoder.decode(Fixtures.data(CUB + "001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg"));
            assertEquals(40, image.width());
            assertEquals(30, image.height());
            // JDK libjpeg 6b vs Pillow's libjpeg-turbo: same islow IDCT and fancy upsampling, rounding may differ by 1.
            assertTrue(maxAbsDifference(image, Files.readAllBytes(Fixtures.data("pil/decoded_Black_Footed_Albatross_0001_796111.rgb"))) <= 1);
        }
    }

    @Test
    void grayscaleJpegIsReplicatedToThreeEqualChannelsLikePillow() throws IOException {
        try (ImageDecoder decoder = new ImageDecoder()) {
            RgbImage image = decoder.decode(Fixtures.data(CUB + "002.Laysan_Albatross/Laysan_Albatross_0002_1027.jpg"));
            for (int i = 0; i < image.width() * image.height(); i++) {
                assertEquals(image.pixels()[3 * i], image.pixels()[3 * i + 1]);
                assertEquals(image.pixels()[3 * i], image.pixels()[3 * i + 2]);
            }
            assertEquals(0, maxAbsDifference(image, Files.readAllBytes(Fixtures.data("pil/decoded_Laysan_Albatross_0002_1027.rgb"))));
        }
    }

    @Test
    void adobeCmykJpegUsesPillowsNaiveConversion() throws IOException {
        Path file = Fixtures.data(CUB + "010.Red_winged_Blackbird/Red_Winged_Blackbird_0002_5140.jpg");
        assertEquals(0, ImageDecoder.adobeTransform(Files.readAllBytes(file)));
        try (ImageDecoder decoder = new ImageDecoder()) {
            RgbImage image = decoder.decode(file);
            // Pillow: CMYK (197,123,42,64) at (0,20) -> RGB (43,99,160)
            assertEquals(43, image.get(0, 20, 0), 1);
            assertEquals(99, image.get(0, 20, 1), 1);
            assertEquals(160, image.get(0, 20, 2), 1);
            assertTrue(maxAbsDifference(image, Files.readAllBytes(Fixtures.data("pil/decoded_Red_Winged_Blackbird_0002_5140.rgb"))) <= 1);
        }
    }

    @Test
    void rgbaPngDropsAlphaAndKeepsColour() {
        try (ImageDecoder decoder = new ImageDecoder()) {
            RgbImage rgba = decoder.decode(Fixtures.data("imagefolder/train/dog/d.png"));
            assertEquals(24, rgba.width());
            assertEquals(20, rgba.height());
            RgbImage png = decoder.decode(Fixtures.data("pil/resize_source.png"));
            assertEquals(37, png.width());
        }
    }

    @Test
    void grayRasterBecomesRgbByReplication() {
        // two rows of stride 3 starting at offset 1: only the first two bytes of each row are pixels
        RgbImage image = RgbImage.fromGray(2, 2, new byte[] {99, 7, (byte) 200, 99, 1, 2, 99}, 1, 3);
        assertEquals(7, image.get(0, 0, 2));
        assertEquals(200, image.get(1, 0, 0));
        assertEquals(2, image.get(1, 1, 1));
    }

    @Test
    void bufferedImageConversionLeavesTheCallersPixelsAlone() {
        java.awt.image.BufferedImage bgr = new java.awt.image.BufferedImage(2, 1, java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        bgr.setRGB(0, 0, 0x102030);
        bgr.setRGB(1, 0, 0xA0B0C0);
        RgbImage first = ImageDecoder.fromBufferedImage(bgr);
        RgbImage second = ImageDecoder.fromBufferedImage(bgr);
        assertEquals(0x10, first.get(0, 0, 0));
        assertEquals(0x30, first.get(0, 0, 2));
        assertEquals(0xC0, second.get(1, 0, 2));
        assertEquals(0x102030, bgr.getRGB(0, 0) & 0xFFFFFF);
    }

    @Test
    void truncatedJpegFailsNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(Fixtures.data(CUB + "001.Black_footed_Albatross/Black_Footed_Albatross_0002_55.jpg"));
        Path truncated = dir.resolve("truncated.jpg");
        Files.write(truncated, Arrays.copyOf(whole, whole.length * 2 / 3));
        try (ImageDecoder decoder = new ImageDecoder()) {
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(truncated));
            assertEquals(truncated.toString(), e.source());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void truncatedPngAndMissingFileFailNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(Fixtures.data("imagefolder/train/cat/b.png"));
        Path truncated = dir.resolve("cut.png");
        Files.write(truncated, Arrays.copyOf(whole, whole.length / 2));
        try (ImageDecoder decoder = new ImageDecoder()) {
            assertEquals(truncated.toString(), assertThrows(ImageDecodeException.class, () -> decoder.decode(truncated)).source());
            Path missing = dir.resolve("missing.jpg");
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(missing));
            assertTrue(e.getMessage().startsWith(missing.toString()) && e.getMessage().contains("does not exist"), e.getMessage());
        }
    }

    @Test
    void fuzzedJpegAndPngEitherDecodeOrFailWithAMessage() throws IOException {
        byte[][] seeds = {
                Files.readAllBytes(Fixtures.data(CUB + "001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg")),
                Files.readAllBytes(Fixtures.data(CUB + "010.Red_winged_Blackbird/Red_Winged_Blackbird_0002_5140.jpg")),
                Files.readAllBytes(Fixtures.data(CUB + "002.Laysan_Albatross/Laysan_Albatross_0002_1027.jpg")),
                Files.readAllBytes(Fixtures.data("imagefolder/train/cat/b.png")),
                Files.readAllBytes(Fixtures.data("imagefolder/train/dog/d.png")),
        };
        int[] outcomes = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            SplittableRandom random = new SplittableRandom(1234);
            try (ImageDecoder decoder = new ImageDecoder()) {
                for (int trial = 0; trial < 1200; trial++) {
                    byte[] seed = seeds[trial % seeds.length];
                    byte[] mutated = mutate(seed, random);
                    try {
                        RgbImage image = decoder.decode(mutated, "fuzz#" + trial);
                        assertNotNull(image);
                        outcomes[0]++;
                    } catch (ImageDecodeException e) {
                        assertTrue(e.getMessage().startsWith("fuzz#" + trial + ": "), e.getMessage());
                        assertFalse(e.getMessage().length() <= ("fuzz#" + trial + ": ").length());
                        outcomes[1]++;
                    }
                }
            }
        });
        assertEquals(1200, outcomes[0] + outcomes[1]);
        assertTrue(outcomes[1] > 100, "rejected " + outcomes[1]);
    }

    private static byte[] mutate(byte[] seed, SplittableRandom random) {
        byte[] out = seed.clone();
        switch (random.nextInt(4)) {
            case 0 -> out = Arrays.copyOf(out, 1 + random.nextInt(out.length)); // truncate
            case 1 -> {
                for (int k = 0, n = 1 + random.nextInt(8); k < n; k++) {
                    out[random.nextInt(out.length)] = (byte) random.nextInt(256);
                }
            }
            case 2 -> {
                // header-only damage: sizes, tables, chunk lengths
                int limit = Math.min(out.length, 200);
                for (int k = 0, n = 1 + random.nextInt(4); k < n; k++) {
                    out[random.nextInt(limit)] = (byte) random.nextInt(256);
                }
            }
            default -> {
                int from = random.nextInt(out.length);
                int len = Math.min(out.length - from, 1 + random.nextInt(64));
                Arrays.fill(out, from, from + len, (byte) (random.nextBoolean() ? 0xFF : 0));
            }
        }
        return out;
    }
}
