// CImageIO: a small C shim over the system's libpng and libjpeg(-turbo).
//
// libpng and libjpeg report errors by longjmp-ing out of the failing call. That control flow
// must never cross into Swift, so every entry point here sets its own jump buffer, catches the
// library's error, cleans up, and returns a status code with a one-line message instead.
// Nothing in this shim aborts, prints, or keeps global state.

#ifndef CIMAGEIO_H
#define CIMAGEIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Status codes

#define CIMAGEIO_OK 0
#define CIMAGEIO_EMPTY 1             /* zero bytes of input */
#define CIMAGEIO_NOT_AN_IMAGE 2      /* neither a PNG nor a JPEG signature */
#define CIMAGEIO_TRUNCATED 3         /* the data ends before the image does */
#define CIMAGEIO_CORRUPT 4           /* the codec rejected the data (bad CRC, bad header, ...) */
#define CIMAGEIO_TOO_LARGE 5         /* more pixels than the caller's limit; nothing was allocated */
#define CIMAGEIO_UNSUPPORTED 6       /* a valid file of a kind this shim does not decode */
#define CIMAGEIO_OUT_OF_MEMORY 7
#define CIMAGEIO_INVALID_ARGUMENT 8  /* a caller error when encoding (bad size, sample out of range) */

/// Source container formats reported by the decoder.
#define CIMAGEIO_FORMAT_PNG 1
#define CIMAGEIO_FORMAT_JPEG 2

/// Room for a message; longer messages are cut.
#define CIMAGEIO_MESSAGE_CAPACITY 256

// MARK: - Decoding

/// A decoded image, always 8 bits per sample, rows top to bottom, no padding.
typedef struct {
    uint32_t width;
    uint32_t height;
    /// 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    uint32_t channels;
    /// width * height * channels bytes, from malloc; release with cimageio_free.
    uint8_t *pixels;
    /// CIMAGEIO_FORMAT_PNG or CIMAGEIO_FORMAT_JPEG.
    uint32_t format;
    /// The file's own bit depth (PNG: 1, 2, 4, 8, 16; JPEG: 8).
    uint32_t source_bit_depth;
    /// PNG colour type (0, 2, 3, 4, 6) or, for JPEG, the number of components.
    uint32_t source_color_type;
    /// 1 for interlaced PNG or progressive JPEG.
    uint32_t interlaced_or_progressive;
} cimageio_image;

/// Reads only the header: format, width and height. Returns CIMAGEIO_OK when both sizes were found.
int cimageio_probe(const uint8_t *data, size_t size,
                   uint32_t *format, uint32_t *width, uint32_t *height);

/// Decodes a PNG (any colour type and bit depth; palette and tRNS become RGB(A); 16-bit is
/// rounded to 8) or a JPEG (baseline or progressive; grey stays grey, everything else becomes RGB).
/// Images with more than `max_pixels` pixels are refused from their header, before any allocation.
/// On failure `out->pixels` is NULL and `message` holds one line.
int cimageio_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                    cimageio_image *out, char *message, size_t message_capacity);

// MARK: - Encoding

/// What to write as PNG. The colour type and bit depth are PNG's own numbers.
typedef struct {
    uint32_t width;
    uint32_t height;
    /// 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA.
    int color_type;
    /// 1, 2, 4, 8 or 16, as PNG allows for the colour type.
    int bit_depth;
    /// palette_count RGB triples (colour type 3 only).
    const uint8_t *palette;
    int palette_count;
    /// Optional alpha per palette entry (a tRNS chunk), palette_alpha_count <= palette_count.
    const uint8_t *palette_alpha;
    int palette_alpha_count;
    /// Adam7 interlacing when non-zero.
    int interlaced;
    /// zlib level 0-9, or -1 for libpng's default.
    int compression_level;
} cimageio_png_spec;

/// Encodes a PNG into a new malloc'd buffer (`*out`, `*out_size`; release with cimageio_free).
/// `samples` holds width * height * channels values, one per sample, top row first: bytes
/// (uint8_t) for bit depths up to 8, native uint16_t for bit depth 16. For colour type 3 the
/// samples are palette indices.
int cimageio_png_encode(const cimageio_png_spec *spec, const void *samples,
                        uint8_t **out, size_t *out_size,
                        char *message, size_t message_capacity);

/// Encodes 8-bit grey (channels 1) or RGB (channels 3) pixels as a JPEG (baseline, or
/// progressive when `progressive` is non-zero) into a new malloc'd buffer.
int cimageio_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                         int quality, int progressive,
                         uint8_t **out, size_t *out_size,
                         char *message, size_t message_capacity);

/// Releases a buffer returned by this shim.
void cimageio_free(void *pointer);

#ifdef __cplusplus
}
#endif

#endif
