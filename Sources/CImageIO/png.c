// PNG decoding and encoding through libpng. libpng's errors longjmp back to the setjmp in the
// function that called it; each such function releases what it allocated and returns a status.

#include "internal.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

// MARK: - Error and I/O callbacks

typedef struct {
    char *message;
    size_t capacity;
} png_error_context;

static void on_png_error(png_structp png, png_const_charp text) {
    png_error_context *context = (png_error_context *)png_get_error_ptr(png);
    if (context) cimageio_set_message(context->message, context->capacity, "libpng: %s", text);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;  // Warnings (unknown chunks, odd gamma) do not stop decoding and are not printed.
}

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t position;
    volatile int hit_end;
} png_memory_reader;

static void read_from_memory(png_structp png, png_bytep destination, size_t length) {
    png_memory_reader *reader = (png_memory_reader *)png_get_io_ptr(png);
    if (length > reader->size - reader->position) {
        reader->hit_end = 1;
        png_error(png, "the data ends before the image does");
    }
    memcpy(destination, reader->data + reader->position, length);
    reader->position += length;
}

typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} png_memory_writer;

static void write_to_memory(png_structp png, png_bytep source, size_t length) {
    png_memory_writer *writer = (png_memory_writer *)png_get_io_ptr(png);
    if (length > writer->capacity - writer->size) {
        size_t capacity = writer->capacity ? writer->capacity : 4096;
        while (length > capacity - writer->size) capacity *= 2;
        uint8_t *grown = (uint8_t *)realloc(writer->data, capacity);
        if (grown == NULL) png_error(png, "out of memory");
        writer->data = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->size, source, length);
    writer->size += length;
}

static void flush_nothing(png_structp png) { (void)png; }

static uint32_t read_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

// MARK: - Probing

int cimageio_png_probe(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height) {
    // IHDR must be the first chunk: signature (8), length (4), "IHDR" (4), width (4), height (4).
    if (size < 24) return CIMAGEIO_TRUNCATED;
    if (memcmp(data + 12, "IHDR", 4) != 0) return CIMAGEIO_CORRUPT;
    if (width) *width = read_be32(data + 16);
    if (height) *height = read_be32(data + 20);
    return CIMAGEIO_OK;
}

// MARK: - Decoding

int cimageio_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                        cimageio_image *out, char *message, size_t capacity) {
    uint32_t header_width = 0, header_height = 0;
    if (cimageio_png_probe(data, size, &header_width, &header_height) == CIMAGEIO_OK &&
        (uint64_t)header_width * header_height > max_pixels) {
        cimageio_set_message(message, capacity, "%u x %u pixels is more than the limit of %llu",
                             header_width, header_height, (unsigned long long)max_pixels);
        return CIMAGEIO_TOO_LARGE;
    }

    png_error_context error_context = {message, capacity};
    png_memory_reader reader = {data, size, 0, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &error_context, on_png_error, on_png_warning);
    if (png == NULL) {
        cimageio_set_message(message, capacity, "out of memory");
        return CIMAGEIO_OUT_OF_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        cimageio_set_message(message, capacity, "out of memory");
        return CIMAGEIO_OUT_OF_MEMORY;
    }

    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    volatile int status = CIMAGEIO_CORRUPT;

    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        if (reader.hit_end) return CIMAGEIO_TRUNCATED;
        return status;
    }

    // Our own pixel limit is the one that counts; libpng's default (1,000,000 per side) is lifted.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
#if defined(PNG_IGNORE_ADLER32) && defined(PNG_SET_OPTION_SUPPORTED)
    // zlib's Adler-32 of the inflated data is not checked (its cost is in BENCHMARKS.md, "Digits
    // Studio under load: the CPU per reading halved"): every chunk's CRC-32, which covers the
    // compressed bytes, still is.
    png_set_option(png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
    png_set_read_fn(png, &reader, read_from_memory);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    if ((uint64_t)width * height > max_pixels) {
        status = CIMAGEIO_TOO_LARGE;
        png_error(png, "the image has more pixels than the limit");
    }

    // Normalise to 8-bit grey, grey+alpha, RGB or RGBA.
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16) png_set_scale_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    png_byte channels = png_get_channels(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || row_bytes != (size_t)width * channels) {
        status = CIMAGEIO_UNSUPPORTED;
        png_error(png, "unexpected pixel layout after normalisation");
    }

    pixels = (uint8_t *)malloc(row_bytes * height);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (pixels == NULL || rows == NULL) {
        status = CIMAGEIO_OUT_OF_MEMORY;
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    // The pixels are complete here; a missing or damaged IEND after them is not worth failing for.

    out->width = width;
    out->height = height;
    out->channels = channels;
    out->pixels = pixels;
    out->format = CIMAGEIO_FORMAT_PNG;
    out->source_bit_depth = (uint32_t)bit_depth;
    out->source_color_type = (uint32_t)color_type;
    out->interlaced_or_progressive = interlace != PNG_INTERLACE_NONE;
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return CIMAGEIO_OK;
}

// MARK: - Encoding

static int channels_for_color_type(int color_type) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_PALETTE: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 0;
    }
}

static int depth_allowed(int color_type, int depth) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case PNG_COLOR_TYPE_PALETTE: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case PNG_COLOR_TYPE_RGB:
    case PNG_COLOR_TYPE_GRAY_ALPHA:
    case PNG_COLOR_TYPE_RGB_ALPHA: return depth == 8 || depth == 16;
    default: return 0;
    }
}

/// Checks every sample against the bit depth (and palette size) before libpng sees any of them.
static int check_samples(const cimageio_png_spec *spec, const void *samples, size_t count,
                         char *message, size_t capacity) {
    if (spec->bit_depth == 16) return CIMAGEIO_OK;  // every uint16_t fits
    uint32_t limit = spec->color_type == PNG_COLOR_TYPE_PALETTE ? (uint32_t)spec->palette_count
                                                                : (1u << spec->bit_depth);
    const uint8_t *bytes = (const uint8_t *)samples;
    for (size_t i = 0; i < count; i++) {
        if (bytes[i] >= limit) {
            cimageio_set_message(message, capacity, "sample %zu is %u, outside 0..<%u", i, bytes[i], limit);
            return CIMAGEIO_INVALID_ARGUMENT;
        }
    }
    return CIMAGEIO_OK;
}

/// Packs one row of samples into PNG's byte layout (MSB-first bits, big-endian 16-bit).
static void pack_row(const cimageio_png_spec *spec, const void *samples, size_t samples_per_row,
                     uint32_t y, uint8_t *row, size_t row_bytes) {
    memset(row, 0, row_bytes);
    if (spec->bit_depth == 16) {
        const uint16_t *source = (const uint16_t *)samples + (size_t)y * samples_per_row;
        for (size_t i = 0; i < samples_per_row; i++) {
            row[2 * i] = (uint8_t)(source[i] >> 8);
            row[2 * i + 1] = (uint8_t)(source[i] & 0xFF);
        }
        return;
    }
    const uint8_t *source = (const uint8_t *)samples + (size_t)y * samples_per_row;
    if (spec->bit_depth == 8) {
        memcpy(row, source, samples_per_row);
        return;
    }
    int depth = spec->bit_depth;
    int per_byte = 8 / depth;
    for (size_t i = 0; i < samples_per_row; i++) {
        int shift = 8 - depth * (int)(i % (size_t)per_byte + 1);
        row[i / (size_t)per_byte] |= (uint8_t)(source[i] << shift);
    }
}

int cimageio_png_encode(const cimageio_png_spec *spec, const void *samples,
                        uint8_t **out, size_t *out_size,
                        char *message, size_t capacity) {
    if (out == NULL || out_size == NULL || spec == NULL || samples == NULL) {
        cimageio_set_message(message, capacity, "missing argument");
        return CIMAGEIO_INVALID_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    int channels = channels_for_color_type(spec->color_type);
    if (channels == 0 || !depth_allowed(spec->color_type, spec->bit_depth)) {
        cimageio_set_message(message, capacity, "PNG has no colour type %d with bit depth %d",
                             spec->color_type, spec->bit_depth);
        return CIMAGEIO_INVALID_ARGUMENT;
    }
    if (spec->width == 0 || spec->height == 0 || spec->width > 0x7fffffff || spec->height > 0x7fffffff) {
        cimageio_set_message(message, capacity, "a PNG cannot be %u x %u pixels", spec->width, spec->height);
        return CIMAGEIO_INVALID_ARGUMENT;
    }
    if (spec->color_type == PNG_COLOR_TYPE_PALETTE) {
        if (spec->palette == NULL || spec->palette_count < 1 || spec->palette_count > 256 ||
            spec->palette_count > (1 << spec->bit_depth) || spec->palette_alpha_count < 0 ||
            spec->palette_alpha_count > spec->palette_count ||
            (spec->palette_alpha_count > 0 && spec->palette_alpha == NULL)) {
            cimageio_set_message(message, capacity, "invalid palette of %d entries for bit depth %d",
                                 spec->palette_count, spec->bit_depth);
            return CIMAGEIO_INVALID_ARGUMENT;
        }
    }
    size_t samples_per_row = (size_t)spec->width * (size_t)channels;
    int status = check_samples(spec, samples, samples_per_row * spec->height, message, capacity);
    if (status != CIMAGEIO_OK) return status;
    size_t row_bytes = (samples_per_row * (size_t)spec->bit_depth + 7) / 8;

    png_error_context error_context = {message, capacity};
    png_memory_writer writer = {NULL, 0, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &error_context, on_png_error, on_png_warning);
    if (png == NULL) {
        cimageio_set_message(message, capacity, "out of memory");
        return CIMAGEIO_OUT_OF_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        cimageio_set_message(message, capacity, "out of memory");
        return CIMAGEIO_OUT_OF_MEMORY;
    }
    uint8_t *volatile row = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        free(writer.data);
        return CIMAGEIO_CORRUPT;
    }

    png_set_write_fn(png, &writer, write_to_memory, flush_nothing);
    if (spec->compression_level >= 0 && spec->compression_level <= 9) png_set_compression_level(png, spec->compression_level);
    png_set_IHDR(png, info, spec->width, spec->height, spec->bit_depth, spec->color_type,
                 spec->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (spec->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color palette[256];
        for (int i = 0; i < spec->palette_count; i++) {
            palette[i].red = spec->palette[3 * i];
            palette[i].green = spec->palette[3 * i + 1];
            palette[i].blue = spec->palette[3 * i + 2];
        }
        png_set_PLTE(png, info, palette, spec->palette_count);
        if (spec->palette_alpha_count > 0) {
            png_set_tRNS(png, info, spec->palette_alpha, spec->palette_alpha_count, NULL);
        }
    }
    png_write_info(png, info);

    row = (uint8_t *)malloc(row_bytes);
    if (row == NULL) png_error(png, "out of memory");
    int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++) {
        for (uint32_t y = 0; y < spec->height; y++) {
            pack_row(spec, samples, samples_per_row, y, row, row_bytes);
            png_write_row(png, row);
        }
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    *out = writer.data;
    *out_size = writer.size;
    return CIMAGEIO_OK;
}
