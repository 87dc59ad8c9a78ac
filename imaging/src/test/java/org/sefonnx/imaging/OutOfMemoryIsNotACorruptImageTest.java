package org.sefonnx.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.IIOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A valid image the heap cannot hold is an OutOfMemoryError, never a "corrupt image": ImageIO's PNG reader wraps the
 * error in an IIOException, so the decoder looks down the cause chain.
 */
class OutOfMemoryIsNotACorruptImageTest {
    /** The PNG's side: 8000² RGB pixels (192 MB decoded), under the decoder's 8192² limit, over a 64 MB heap. */
    static final int SIDE = 8000;

    @Test
    void theCauseChainIsSearched() {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        IIOException wrapped = new IIOException("Caught exception during read: ", oom);
        assertSame(oom, ImageDecoder.outOfMemoryIn(new IllegalStateException("outer", wrapped)));
        assertEquals(null, ImageDecoder.outOfMemoryIn(new IIOException("Unsupported PNG filter")));
    }

    @Test
    void aLargeValidPngInASmallHeapFailsAsOutOfMemory(@TempDir Path dir) throws Exception {
        Path png = zeroPng(dir.resolve("large.png"), SIDE, SIDE);
        assertTrue(Files.size(png) < 1 << 20, "a compressed file of " + Files.size(png) + " bytes");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(
                        java,
                        "-Xmx64m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Probe.class.getName(),
                        png.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        assertEquals(List.of("out of memory"), out.lines().toList(), out);
    }

    /** Decodes the file given in a fresh JVM and prints how the decode ended. */
    public static final class Probe {
        public static void main(String[] args) {
            try (ImageDecoder decoder = new ImageDecoder()) {
                decoder.decode(Path.of(args[0]));
                System.out.println("decoded");
            } catch (OutOfMemoryError e) {
                System.out.println("out of memory");
            } catch (ImageDecodeException e) {
                System.out.println("bad image: " + e.getMessage());
            }
        }
    }

    /** A black 8-bit RGB PNG of {@code width} × {@code height}: rows of zeros deflate to almost nothing. */
    static Path zeroPng(Path file, int width, int height) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
            ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
            DataOutputStream h = new DataOutputStream(ihdr);
            h.writeInt(width);
            h.writeInt(height);
            h.write(new byte[] {8, 2, 0, 0, 0}); // 8 bits, RGB, deflate, adaptive filtering, no interlace
            chunk(out, "IHDR", ihdr.toByteArray());
            ByteArrayOutputStream idat = new ByteArrayOutputStream();
            try (DeflaterOutputStream z = new DeflaterOutputStream(idat)) {
                byte[] row = new byte[1 + 3 * width]; // filter type 0, then the samples
                for (int y = 0; y < height; y++) z.write(row);
            }
            chunk(out, "IDAT", idat.toByteArray());
            chunk(out, "IEND", new byte[0]);
        }
        return file;
    }

    private static void chunk(OutputStream out, String type, byte[] data) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        d.writeInt(data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        d.write(t);
        d.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        d.writeInt((int) crc.getValue());
    }
}
