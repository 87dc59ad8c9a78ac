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
            RgbImage image = decoder.decode(
                    Fixtures.data(CUB + "001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg"));
            assertEquals(40, image.width());
            assertEquals(30, image.height());
            // JDK libjpeg 6b vs Pillow's libjpeg-turbo: same islow IDCT and fancy upsampling, rounding may differ by 1.
            assertTrue(maxAbsDifference(
                            image,
                            Files.readAllBytes(Fixtures.data("pil/decoded_Black_Footed_Albatross_0001_796111.rgb")))
                    <= 1);
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
            assertEquals(
                    0,
                    maxAbsDifference(
                            image, Files.readAllBytes(Fixtures.data("pil/decoded_Laysan_Albatross_0002_1027.rgb"))));
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
            assertTrue(maxAbsDifference(
                            image, Files.readAllBytes(Fixtures.data("pil/decoded_Red_Winged_Blackbird_0002_5140.rgb")))
                    <= 1);
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
        java.awt.image.BufferedImage bgr =
                new java.awt.image.BufferedImage(2, 1, java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
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
        byte[] whole = Files.readAllBytes(
                Fixtures.data(CUB + "001.Black_footed_Albatross/Black_Footed_Albatross_0002_55.jpg"));
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
            assertEquals(
                    truncated.toString(),
                    assertThrows(ImageDecodeException.class, () -> decoder.decode(truncated))
                            .source());
            Path missing = dir.resolve("missing.jpg");
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(missing));
            assertTrue(
                    e.getMessage().startsWith(missing.toString())
                            && e.getMessage().contains("does not exist"),
                    e.getMessage());
        }
    }

    @Test
    void fuzzedJpegAndPngEitherDecodeOrFailWithAMessage() throws IOException {
        byte[][] seeds = {
            Files.readAllBytes(
                    Fixtures.data(CUB + "001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg")),
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

    private static byte[] png(java.awt.image.BufferedImage image) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    @Test
    void sixteenBitGrayPngClipsTo255LikePillowsConvertRgb() throws IOException {
        // Pillow 9.4 opens it as mode "I" and convert("RGB") clips (Convert.c i2rgb, clip8): 0..255 stay, the rest is
        // white
        java.awt.image.BufferedImage gray =
                new java.awt.image.BufferedImage(4, 1, java.awt.image.BufferedImage.TYPE_USHORT_GRAY);
        int[] values = {0, 200, 255, 40000};
        for (int x = 0; x < 4; x++) gray.getRaster().setSample(x, 0, 0, values[x]);
        try (ImageDecoder decoder = new ImageDecoder()) {
            RgbImage image = decoder.decode(png(gray), "gray16.png");
            int[] expected = {0, 200, 255, 255};
            for (int x = 0; x < 4; x++)
                for (int c = 0; c < 3; c++) assertEquals(expected[x], image.get(x, 0, c), "x=" + x);
        }
    }

    @Test
    void sixteenBitRgbPngKeepsEachSamplesHighByteLikePillow() throws IOException {
        // Pillow unpacks "RGB;16B" by taking the most significant byte; getRGB's v*255/65535 rounding is off by one for
        // 0x80FF
        java.awt.color.ColorSpace srgb = java.awt.color.ColorSpace.getInstance(java.awt.color.ColorSpace.CS_sRGB);
        java.awt.image.ComponentColorModel model = new java.awt.image.ComponentColorModel(
                srgb,
                new int[] {16, 16, 16},
                false,
                false,
                java.awt.Transparency.OPAQUE,
                java.awt.image.DataBuffer.TYPE_USHORT);
        java.awt.image.WritableRaster raster = model.createCompatibleWritableRaster(3, 1);
        int[][] samples = {{0x80FF, 0x0000, 0xFFFF}, {0x01FF, 0x7F80, 0x8000}, {0x1234, 0xFF00, 0x00FF}};
        for (int x = 0; x < 3; x++) raster.setPixel(x, 0, samples[x]);
        try (ImageDecoder decoder = new ImageDecoder()) {
            RgbImage image =
                    decoder.decode(png(new java.awt.image.BufferedImage(model, raster, false, null)), "rgb16.png");
            for (int x = 0; x < 3; x++)
                for (int c = 0; c < 3; c++) assertEquals(samples[x][c] >>> 8, image.get(x, 0, c), "x=" + x + " c=" + c);
        }
    }

    @Test
    void embeddedIccProfileIsIgnoredAsPillowIgnoresIt() throws IOException {
        java.awt.image.BufferedImage colour =
                new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        SplittableRandom random = new SplittableRandom(7);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) colour.setRGB(x, y, random.nextInt(1 << 24));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(colour, "jpeg", out);
        byte[] plain = out.toByteArray();
        // a non-sRGB profile (linear RGB stands in for a camera's Adobe RGB) in an APP2 ICC_PROFILE segment after SOI
        byte[] profile = java.awt.color.ICC_Profile.getInstance(java.awt.color.ColorSpace.CS_LINEAR_RGB)
                .getData();
        byte[] tag = "ICC_PROFILE\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int length = 2 + tag.length + 2 + profile.length;
        java.io.ByteArrayOutputStream tagged = new java.io.ByteArrayOutputStream();
        tagged.write(plain, 0, 2);
        tagged.write(new byte[] {(byte) 0xFF, (byte) 0xE2, (byte) (length >> 8), (byte) length}, 0, 4);
        tagged.write(tag, 0, tag.length);
        tagged.write(new byte[] {1, 1}, 0, 2);
        tagged.write(profile, 0, profile.length);
        tagged.write(plain, 2, plain.length - 2);
        byte[] withProfile = tagged.toByteArray();
        assertEquals(plain.length, ImageDecoder.withoutIccProfile(withProfile).length);
        try (ImageDecoder decoder = new ImageDecoder()) {
            byte[] expected = decoder.decode(plain, "plain.jpg").pixels();
            assertEquals(0, maxAbsDifference(decoder.decode(withProfile, "adobe-rgb.jpg"), expected));
        }
    }

    @Test
    void checkReadsOnlyHeadersOfGoodFilesAndFindsTruncatedOnes(@TempDir Path dir) throws IOException {
        Path jpeg = Fixtures.data(CUB + "001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg");
        assertEquals(40, ImageDecoder.jpegFrameSize(Files.readAllBytes(jpeg))[0]);
        assertEquals(30, ImageDecoder.jpegFrameSize(Files.readAllBytes(jpeg))[1]);
        byte[] bytes = Files.readAllBytes(jpeg);
        Path cut = dir.resolve("cut.jpg");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        Path huge = dir.resolve("huge.png");
        java.awt.image.BufferedImage small =
                new java.awt.image.BufferedImage(2, 2, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        byte[] png = png(small);
        // IHDR claims 9000 x 9000: over the pixel limit, refused from the header alone
        java.nio.ByteBuffer.wrap(png).putInt(16, 9000).putInt(20, 9000);
        Files.write(huge, png);
        try (ImageDecoder decoder = new ImageDecoder()) {
            decoder.check(jpeg);
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.check(cut));
            assertEquals(cut.toString(), e.source());
            e = assertThrows(ImageDecodeException.class, () -> decoder.check(huge));
            assertTrue(e.getMessage().contains("9000x9000"), e.getMessage());
            e = assertThrows(ImageDecodeException.class, () -> decoder.check(dir.resolve("missing.jpg")));
            assertTrue(e.getMessage().endsWith("file does not exist"), e.getMessage());
        }
    }

    @Test
    void outOfMemoryWhileDecodingIsNotReportedAsABadImage(@TempDir Path dir) throws Exception {
        // a valid 4000x4000 PNG needs 64 MB to decode: in a JVM limited to 32 MB that is an OutOfMemoryError, not
        // "corrupt"
        Path big = dir.resolve("big.png");
        Files.write(
                big, png(new java.awt.image.BufferedImage(4000, 4000, java.awt.image.BufferedImage.TYPE_BYTE_GRAY)));
        Process p = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx32m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        DecodeInSmallHeap.class.getName(),
                        big.toString())
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), output);
        assertTrue(output.contains("OutOfMemoryError"), output);
    }

    /** Decodes one file and says what was thrown (run in a child JVM with a small heap). */
    static final class DecodeInSmallHeap {
        public static void main(String[] args) {
            try (ImageDecoder decoder = new ImageDecoder()) {
                decoder.decode(Path.of(args[0]));
                System.out.println("decoded");
            } catch (OutOfMemoryError e) {
                System.out.println("OutOfMemoryError");
            } catch (ImageDecodeException e) {
                System.out.println("ImageDecodeException " + e.getMessage());
            }
        }
    }

    @Test
    void exifOrientationIsIgnoredByDefaultAndAppliedAsPillowsExifTransposeWhenAsked() throws IOException {
        // 3 x 2 stored image; orientation 6 means "rotate 90 degrees clockwise to display"
        java.awt.image.BufferedImage stored =
                new java.awt.image.BufferedImage(48, 32, java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        java.awt.Graphics2D g = stored.createGraphics();
        g.setColor(java.awt.Color.RED);
        g.fillRect(0, 0, 16, 16); // top-left block red
        g.dispose();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(stored, "jpeg", out);
        byte[] plain = out.toByteArray();
        // APP1 "Exif\0\0" + big-endian TIFF with one IFD0 entry: 0x0112 SHORT count 1 value 6
        byte[] tiff = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0};
        int length = 2 + 6 + tiff.length;
        java.io.ByteArrayOutputStream tagged = new java.io.ByteArrayOutputStream();
        tagged.write(plain, 0, 2);
        tagged.write(
                new byte[] {(byte) 0xFF, (byte) 0xE1, (byte) (length >> 8), (byte) length, 'E', 'x', 'i', 'f', 0, 0},
                0,
                10);
        tagged.write(tiff, 0, tiff.length);
        tagged.write(plain, 2, plain.length - 2);
        byte[] rotated = tagged.toByteArray();
        assertEquals(6, ImageDecoder.exifOrientation(rotated));
        try (ImageDecoder ignoring = new ImageDecoder();
                ImageDecoder applying = new ImageDecoder(true)) {
            RgbImage asStored = ignoring.decode(rotated, "rotated.jpg");
            assertEquals(48, asStored.width());
            assertTrue(asStored.get(4, 4, 0) > 200, "red stays top-left when the tag is ignored");
            RgbImage upright = applying.decode(rotated, "rotated.jpg");
            assertEquals(32, upright.width());
            assertEquals(48, upright.height());
            assertTrue(
                    upright.get(27, 4, 0) > 200 && upright.get(4, 4, 0) < 100, "rotated clockwise: red is top-right");
        }
        // where the stored top-left pixel lands for each orientation (Pillow's exif_transpose table)
        RgbImage one = new RgbImage(3, 2, new byte[] {9, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        int[][] landsAt = {{0, 0}, {0, 0}, {2, 0}, {2, 1}, {0, 1}, {0, 0}, {1, 0}, {1, 2}, {0, 2}};
        for (int o = 1; o <= 8; o++) {
            RgbImage t = ExifOrientation.apply(one, o);
            assertEquals(o >= 5 ? 2 : 3, t.width(), "orientation " + o);
            assertEquals(9, t.get(landsAt[o][0], landsAt[o][1], 0), "orientation " + o);
        }
    }
}
