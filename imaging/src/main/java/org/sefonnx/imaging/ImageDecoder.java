package org.sefonnx.imaging;

import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes JPEG and PNG (and any other ImageIO format) to 8-bit RGB as PIL's {@code Image.open(f).convert("RGB")} does.
 *
 * <p>JPEGs go through TwelveMonkeys' reader, which accepts the CMYK/YCCK and broken-metadata JPEGs that
 * the JDK reader rejects; the pixel decoding itself is the JDK's libjpeg. Four-channel JPEGs are converted
 * with PIL's naive CMYK formula rather than an ICC profile, so colours match the authors' PyTorch pipeline.
 * One instance per thread: readers are reused between images.
 */
public final class ImageDecoder implements AutoCloseable {

    /** Larger images are refused before allocation; 8192 x 8192 covers every image of the four data sets. */
    public static final long MAX_PIXELS = 8192L * 8192L;

    private static final int ADOBE_TRANSFORM_NONE = -1;
    private static final int ADOBE_TRANSFORM_YCCK = 2;

    private final ImageReader jpegReader;
    /** The JDK's own reader: about 1.6x faster than TwelveMonkeys' wrapper on plain YCbCr/gray JPEGs (bench/data-decode). */
    private final ImageReader jdkJpegReader;

    private final ImageReader pngReader;
    private final List<String> warnings = new ArrayList<>();
    private final IIOReadWarningListener warningListener = (source, warning) -> warnings.add(warning);
    private final boolean applyExifOrientation;

    /** A decoder that ignores the EXIF orientation tag, as torchvision's default loader (PIL's Image.open) does. */
    public ImageDecoder() {
        this(false);
    }

    /** {@code applyExifOrientation}: turn JPEGs upright by their EXIF orientation tag, as Pillow's ImageOps.exif_transpose. */
    public ImageDecoder(boolean applyExifOrientation) {
        this.applyExifOrientation = applyExifOrientation;
        jpegReader = reader("jpeg", "com.twelvemonkeys");
        jdkJpegReader = reader("jpeg", "com.sun.imageio");
        pngReader = reader("png", null);
        jpegReader.addIIOReadWarningListener(warningListener);
        jdkJpegReader.addIIOReadWarningListener(warningListener);
        pngReader.addIIOReadWarningListener(warningListener);
    }

    private static ImageReader reader(String format, String preferredPackage) {
        ImageReader fallback = null;
        for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(format); it.hasNext(); ) {
            ImageReader candidate = it.next();
            if (preferredPackage == null || candidate.getClass().getName().startsWith(preferredPackage)) {
                return candidate;
            }
            if (fallback == null) {
                fallback = candidate;
            }
        }
        if (fallback == null) {
            throw new IllegalStateException("no ImageIO reader for " + format);
        }
        return fallback;
    }

    /** Reads and decodes {@code file}; a missing, truncated or corrupt file fails naming it. */
    public RgbImage decode(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageDecodeException(file.toString(), "file does not exist", e);
        } catch (IOException e) {
            throw new ImageDecodeException(file.toString(), "cannot read: " + e, e);
        }
        return decode(bytes, file.toString());
    }

    /** Decodes encoded bytes; {@code origin} names them in errors. */
    public RgbImage decode(byte[] bytes, String origin) {
        if (bytes.length == 0) {
            throw new ImageDecodeException(origin, "file is empty", null);
        }
        warnings.clear();
        try {
            if (isJpeg(bytes)) {
                // Pillow decodes the stored samples and ignores an embedded ICC profile (Adobe RGB from cameras, ...);
                // both ImageIO readers would convert through it
                bytes = withoutIccProfile(bytes);
                int orientation = applyExifOrientation ? exifOrientation(bytes) : ExifOrientation.NORMAL;
                if (plainJpeg(bytes)) {
                    try {
                        return ExifOrientation.apply(decodeWith(jdkJpegReader, bytes, origin, false), orientation);
                    } catch (ImageDecodeException e) {
                        throw e;
                    } catch (IOException | RuntimeException e) {
                        rethrowOutOfMemory(e);
                        // e.g. a broken ICC profile the JDK reader chokes on; TwelveMonkeys is more forgiving
                        warnings.clear();
                    }
                }
                return ExifOrientation.apply(decodeWith(jpegReader, bytes, origin, true), orientation);
            }
            if (isPng(bytes)) {
                return decodeWith(pngReader, bytes, origin, false);
            }
            return decodeOther(bytes, origin);
        } catch (ImageDecodeException e) {
            throw e;
        } catch (IOException | RuntimeException | StackOverflowError e) {
            // Corrupt data surfaces as IIOException, but also as AIOOBE, NegativeArraySize or CMMException from the
            // codecs. An OutOfMemoryError is never a bad file (the size was checked first: the heap is too small for a
            // valid image), and ImageIO's PNG reader wraps one in an IIOException ("Caught exception during read")
            rethrowOutOfMemory(e);
            throw new ImageDecodeException(origin, "corrupt image: " + e, e);
        }
    }

    /**
     * The OutOfMemoryError in {@code e}'s cause chain, or null: a reader that catches Throwable hands one on as the
     * cause of its own exception, and callers that tell a bad image from a full heap must look down the chain.
     */
    public static OutOfMemoryError outOfMemoryIn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError oom) return oom;
        }
        return null;
    }

    private static void rethrowOutOfMemory(Throwable e) {
        OutOfMemoryError oom = outOfMemoryIn(e);
        if (oom != null) throw oom;
    }

    static boolean isJpeg(byte[] b) {
        return b.length >= 3 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF;
    }

    static boolean isPng(byte[] b) {
        return b.length >= 8 && (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
    }

    private RgbImage decodeWith(ImageReader reader, byte[] bytes, String origin, boolean jpeg) throws IOException {
        try (ImageInputStream stream = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(stream, true, true);
            try {
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                checkSize(width, height, origin);
                RgbImage image;
                if (jpeg && fourChannel(reader)) {
                    Raster raster = reader.readRaster(0, null);
                    failOnTruncation(origin);
                    image = fromCmyk(raster, adobeTransform(bytes));
                } else {
                    BufferedImage decoded = reader.read(0, null);
                    failOnTruncation(origin);
                    image = toRgb(decoded);
                }
                return image;
            } finally {
                reader.reset();
                reader.addIIOReadWarningListener(warningListener);
            }
        }
    }

    private static boolean fourChannel(ImageReader reader) throws IOException {
        return reader.getRawImageType(0) != null && reader.getRawImageType(0).getNumBands() == 4;
    }

    private void failOnTruncation(String origin) {
        for (String warning : warnings) {
            // libjpeg's "Premature end of JPEG file": PIL raises "image file is truncated" for the same input.
            if (warning.contains("Premature end") || warning.toLowerCase().contains("truncated")) {
                throw new ImageDecodeException(origin, "image is truncated (" + warning + ")", null);
            }
        }
    }

    private RgbImage decodeOther(byte[] bytes, String origin) throws IOException {
        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(bytes));
        if (decoded == null) {
            throw new ImageDecodeException(origin, "not a JPEG or PNG, and no ImageIO reader recognises it", null);
        }
        checkSize(decoded.getWidth(), decoded.getHeight(), origin);
        return toRgb(decoded);
    }

    private static void checkSize(int width, int height, String origin) {
        if (width <= 0 || height <= 0 || (long) width * height > MAX_PIXELS) {
            throw new ImageDecodeException(
                    origin,
                    "image size " + width + "x" + height + " is empty or exceeds " + MAX_PIXELS + " pixels",
                    null);
        }
    }

    /**
     * A caller's BufferedImage as interleaved RGB, converted as a decoded file would be (gray replicated, alpha
     * dropped); {@code image} is left untouched.
     */
    public static RgbImage fromBufferedImage(BufferedImage image) {
        return toRgb(image, false);
    }

    /** {@link #toRgb(BufferedImage, boolean)} on an image this decoder owns. */
    static RgbImage toRgb(BufferedImage image) {
        return toRgb(image, true);
    }

    /** BufferedImage to interleaved RGB, fast paths for what the JPEG and PNG readers produce; {@code owned}: may reuse (and alter) its pixel array. */
    private static RgbImage toRgb(BufferedImage image, boolean owned) {
        int width = image.getWidth();
        int height = image.getHeight();
        Raster raster = image.getRaster();
        int type = image.getType();
        if ((type == BufferedImage.TYPE_3BYTE_BGR || type == BufferedImage.TYPE_BYTE_GRAY)
                && raster.getSampleModel() instanceof ComponentSampleModel model
                && raster.getDataBuffer() instanceof DataBufferByte buffer
                && raster.getSampleModelTranslateX() == 0
                && raster.getSampleModelTranslateY() == 0) {
            byte[] data = buffer.getData();
            int stride = model.getScanlineStride();
            if (type == BufferedImage.TYPE_BYTE_GRAY) {
                // Not getRGB(): it would treat the gray channel as linear and gamma-encode it; PIL replicates L.
                return RgbImage.fromGray(width, height, data, buffer.getOffset(), stride);
            }
            if (owned && buffer.getOffset() == 0 && stride == width * 3 && data.length == width * height * 3) {
                // The decoded image is ours alone: swap B and R in place instead of copying 3 bytes a pixel.
                for (int i = 0; i < data.length; i += 3) {
                    byte blue = data[i];
                    data[i] = data[i + 2];
                    data[i + 2] = blue;
                }
                return new RgbImage(width, height, data);
            }
            byte[] rgb = new byte[width * height * 3];
            for (int y = 0; y < height; y++) {
                int in = buffer.getOffset() + y * stride;
                int out = y * width * 3;
                for (int x = 0; x < width; x++, in += 3, out += 3) {
                    rgb[out] = data[in + 2];
                    rgb[out + 1] = data[in + 1];
                    rgb[out + 2] = data[in];
                }
            }
            return new RgbImage(width, height, rgb);
        }
        if (raster.getNumBands() <= 2
                && image.getColorModel().getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY) {
            int bits = image.getColorModel().getComponentSize(0);
            // Pillow 9.4 opens a 16-bit gray PNG as mode "I" and convert("RGB") clips it (Convert.c i2rgb: clip8), so
            // every value above 255 becomes white; 16-bit gray+alpha opens as "LA;16B", which keeps the high byte;
            // 2- and 4-bit gray unpack as v * 255 / (2^bits - 1) (Unpack.c unpackL2/L4)
            boolean clip = bits == 16 && raster.getNumBands() == 1;
            int max = (1 << Math.min(bits, 8)) - 1;
            byte[] gray = new byte[width * height];
            int[] row = new int[width];
            for (int y = 0; y < height; y++) {
                raster.getSamples(0, y, width, 1, 0, row);
                for (int x = 0; x < width; x++) {
                    int v = row[x];
                    gray[y * width + x] =
                            (byte) (clip ? Math.min(v, 255) : bits > 8 ? v >>> (bits - 8) : v * 255 / max);
                }
            }
            return RgbImage.fromGray(width, height, gray, 0, width);
        }
        if (raster.getNumBands() >= 3
                && raster.getTransferType() == java.awt.image.DataBuffer.TYPE_USHORT
                && image.getColorModel().getColorSpace().isCS_sRGB()) {
            // 16-bit RGB(A) PNGs: Pillow unpacks "RGB;16B" by keeping each sample's high byte; getRGB would round
            // v*255/65535
            byte[] rgb = new byte[width * height * 3];
            int[] row = new int[width];
            for (int band = 0; band < 3; band++) {
                for (int y = 0; y < height; y++) {
                    raster.getSamples(0, y, width, 1, band, row);
                    for (int x = 0; x < width; x++) rgb[(y * width + x) * 3 + band] = (byte) (row[x] >>> 8);
                }
            }
            return new RgbImage(width, height, rgb);
        }
        byte[] rgb = new byte[width * height * 3];
        int[] argb = new int[width];
        for (int y = 0; y < height; y++) {
            // Alpha is dropped without compositing, as PIL's RGBA -> RGB conversion does.
            image.getRGB(0, y, width, 1, argb, 0, width);
            for (int x = 0, out = y * width * 3; x < width; x++, out += 3) {
                int p = argb[x];
                rgb[out] = (byte) (p >>> 16);
                rgb[out + 1] = (byte) (p >>> 8);
                rgb[out + 2] = (byte) p;
            }
        }
        return new RgbImage(width, height, rgb);
    }

    /**
     * Four-channel JPEG raster (as stored) to RGB the way PIL does it: libjpeg turns YCCK into CMYK,
     * PIL inverts Adobe CMYK ("CMYK;I") and then applies R = (255 - K) - (C (255 - K) / 255), per channel.
     */
    static RgbImage fromCmyk(Raster raster, int adobeTransform) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        byte[] rgb = new byte[width * height * 3];
        int[] row = new int[width * 4];
        boolean adobe = adobeTransform != ADOBE_TRANSFORM_NONE;
        for (int y = 0; y < height; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, row);
            for (int x = 0; x < width; x++) {
                int s0 = row[4 * x];
                int s1 = row[4 * x + 1];
                int s2 = row[4 * x + 2];
                int s3 = row[4 * x + 3];
                if (adobeTransform == ADOBE_TRANSFORM_YCCK) {
                    // libjpeg's ycck_cmyk_convert: the YCbCr triple becomes R'G'B', stored as 255 - value.
                    int cb = s1 - 128;
                    int cr = s2 - 128;
                    int r = clamp(s0 + (int) Math.round(1.402 * cr));
                    int g = clamp(s0 + (int) Math.round(-0.344136 * cb - 0.714136 * cr));
                    int b = clamp(s0 + (int) Math.round(1.772 * cb));
                    s0 = 255 - r;
                    s1 = 255 - g;
                    s2 = 255 - b;
                }
                int c = adobe ? 255 - s0 : s0;
                int m = adobe ? 255 - s1 : s1;
                int ye = adobe ? 255 - s2 : s2;
                int k = adobe ? 255 - s3 : s3;
                int notK = 255 - k;
                int out = (y * width + x) * 3;
                rgb[out] = (byte) clamp(notK - mulDiv255(c, notK));
                rgb[out + 1] = (byte) clamp(notK - mulDiv255(m, notK));
                rgb[out + 2] = (byte) clamp(notK - mulDiv255(ye, notK));
            }
        }
        return new RgbImage(width, height, rgb);
    }

    /** a*b/255 rounded, with the shift-and-add form PIL uses (exact for 0..255 operands). */
    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(255, v);
    }

    /** One- or three-component JPEG without an Adobe segment: what the JDK reader decodes as PIL does. */
    static boolean plainJpeg(byte[] jpeg) {
        if (adobeTransform(jpeg) != ADOBE_TRANSFORM_NONE) {
            return false;
        }
        int components = frameComponents(jpeg);
        return components == 1 || components == 3;
    }

    /** One JPEG marker segment before the scan: its marker byte and where it starts and ends in the file. */
    private interface SegmentVisitor {
        /** Returns true to stop the walk. */
        boolean visit(int marker, int start, int end);
    }

    /** Walks the marker segments from SOI to the first SOS/EOI (or damaged marker); stops early when the visitor says so. */
    private static void segments(byte[] jpeg, SegmentVisitor visitor) {
        int p = 2;
        while (p + 4 <= jpeg.length) {
            if ((jpeg[p] & 0xFF) != 0xFF) return;
            int marker = jpeg[p + 1] & 0xFF;
            if (marker == 0xFF) {
                p++;
                continue;
            }
            if (marker == 0xDA || marker == 0xD9) return;
            int end = p + 2 + (((jpeg[p + 2] & 0xFF) << 8) | (jpeg[p + 3] & 0xFF));
            if (visitor.visit(marker, p, end)) return;
            p = end;
        }
    }

    private static boolean startOfFrame(int marker) {
        return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    }

    /** Component count of the first SOFn frame header, or -1 if none is found before the scan. */
    static int frameComponents(byte[] jpeg) {
        int[] found = {-1};
        segments(jpeg, (marker, p, end) -> {
            if (!startOfFrame(marker) || p + 9 >= jpeg.length) return false;
            found[0] = jpeg[p + 9] & 0xFF;
            return true;
        });
        return found[0];
    }

    /** {width, height} of the first SOFn frame header, or null if none is found before the scan or the end of {@code jpeg}. */
    static int[] jpegFrameSize(byte[] jpeg) {
        int[][] found = {null};
        segments(jpeg, (marker, p, end) -> {
            if (!startOfFrame(marker) || p + 9 >= jpeg.length) return false;
            found[0] = new int[] {
                ((jpeg[p + 7] & 0xFF) << 8) | (jpeg[p + 8] & 0xFF), ((jpeg[p + 5] & 0xFF) << 8) | (jpeg[p + 6] & 0xFF)
            };
            return true;
        });
        return found[0];
    }

    /** The transform byte of the first Adobe APP14 segment before the scan, or -1 when there is none. */
    static int adobeTransform(byte[] jpeg) {
        int[] found = {ADOBE_TRANSFORM_NONE};
        segments(jpeg, (marker, p, end) -> {
            if (marker != 0xEE || end - p - 2 < 12 || p + 4 + 11 > jpeg.length || !startsWith(jpeg, p + 4, ADOBE_TAG))
                return false;
            found[0] = jpeg[p + 4 + 11] & 0xFF;
            return true;
        });
        return found[0];
    }

    /** {@code jpeg} without its APP2 ICC_PROFILE segments (the same array when it has none). */
    static byte[] withoutIccProfile(byte[] jpeg) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int[] copied = {0};
        segments(jpeg, (marker, p, end) -> {
            if (marker == 0xE2 && end <= jpeg.length && startsWith(jpeg, p + 4, ICC_PROFILE_TAG)) {
                out.write(jpeg, copied[0], p - copied[0]);
                copied[0] = end;
            }
            return false;
        });
        if (copied[0] == 0) return jpeg;
        out.write(jpeg, copied[0], jpeg.length - copied[0]);
        return out.toByteArray();
    }

    /** The EXIF orientation of the first APP1 Exif segment before the scan, or {@link ExifOrientation#NORMAL}. */
    static int exifOrientation(byte[] jpeg) {
        int[] found = {ExifOrientation.NORMAL};
        segments(jpeg, (marker, p, end) -> {
            if (marker != 0xE1 || end > jpeg.length || end - p < 18 || !startsWith(jpeg, p + 4, EXIF_TAG)) return false;
            found[0] = ExifOrientation.fromTiff(
                    ByteBuffer.wrap(jpeg, p + 10, end - p - 10).slice());
            return true;
        });
        return found[0];
    }

    private static final byte[] EXIF_TAG = {'E', 'x', 'i', 'f', 0, 0};
    private static final byte[] ADOBE_TAG = "Adobe".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] ICC_PROFILE_TAG = "ICC_PROFILE\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static boolean startsWith(byte[] data, int at, byte[] prefix) {
        if (at + prefix.length > data.length) return false;
        for (int i = 0; i < prefix.length; i++) if (data[at + i] != prefix[i]) return false;
        return true;
    }

    /** How much of a file {@link #check} reads to find the image size. */
    private static final int CHECK_HEAD_BYTES = 64 * 1024;
    /** PNG's closing chunk: length 0, "IEND", its CRC. */
    private static final byte[] PNG_IEND = {0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xAE, 0x42, 0x60, (byte) 0x82};

    /**
     * Checks that {@code file} is an image this decoder reads, without decoding it when the header and the end marker
     * can vouch for it: a JPEG's frame size and its closing EOI marker, a PNG's IHDR size and its IEND chunk. Anything
     * else (another format, data after the end marker, a header beyond the first 64 KiB) is decoded in full.
     *
     * @throws ImageDecodeException naming the file: missing, empty, too large, truncated or corrupt
     */
    public void check(Path file) {
        byte[] head, tail;
        try (java.nio.channels.SeekableByteChannel channel = Files.newByteChannel(file)) {
            long size = channel.size();
            if (size == 0) throw new ImageDecodeException(file.toString(), "file is empty", null);
            head = read(channel, 0, (int) Math.min(size, CHECK_HEAD_BYTES));
            tail = read(channel, Math.max(0, size - PNG_IEND.length), (int) Math.min(size, PNG_IEND.length));
        } catch (NoSuchFileException e) {
            throw new ImageDecodeException(file.toString(), "file does not exist", e);
        } catch (IOException e) {
            throw new ImageDecodeException(file.toString(), "cannot read: " + e, e);
        }
        if (isJpeg(head)) {
            int[] size = jpegFrameSize(head);
            int n = tail.length;
            if (size != null && n >= 2 && (tail[n - 2] & 0xFF) == 0xFF && (tail[n - 1] & 0xFF) == 0xD9) {
                checkSize(size[0], size[1], file.toString());
                return;
            }
        } else if (isPng(head)
                && head.length >= 24
                && head[12] == 'I'
                && head[13] == 'H'
                && head[14] == 'D'
                && head[15] == 'R'
                && java.util.Arrays.equals(tail, PNG_IEND)) {
            ByteBuffer ihdr = ByteBuffer.wrap(head, 16, 8);
            checkSize(ihdr.getInt(), ihdr.getInt(), file.toString());
            return;
        }
        decode(file);
    }

    private static byte[] read(java.nio.channels.SeekableByteChannel channel, long at, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        channel.position(at);
        while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
            // keep reading: a channel may return fewer bytes than asked
        }
        return java.util.Arrays.copyOf(buffer.array(), buffer.position());
    }

    @Override
    public void close() {
        jpegReader.dispose();
        jdkJpegReader.dispose();
        pngReader.dispose();
    }
}
