// JPEG decoding and encoding through libjpeg(-turbo). libjpeg's error_exit must not return, so
// it longjmps back here; a "premature end of file" warning is treated as a truncated file, and
// corrupt-data warnings as damaged data, instead of being papered over with grey pixels.

#include "internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

// MARK: - Error manager

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
    size_t capacity;
    volatile int truncated;
} jpeg_error_context;

static void on_jpeg_error(j_common_ptr cinfo) {
    jpeg_error_context *context = (jpeg_error_context *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    cimageio_set_message(context->message, context->capacity, "libjpeg: %s", text);
    longjmp(context->jump, 1);
}

static void on_jpeg_message(j_common_ptr cinfo, int level) {
    jpeg_error_context *context = (jpeg_error_context *)cinfo->err;
    if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        context->truncated = 1;
        cimageio_set_message(context->message, context->capacity, "the data ends before the image does");
        longjmp(context->jump, 1);
    }
    // Corrupt data that libjpeg would paper over (grey blocks, a frame cut short by a false end
    // marker, a header larger than its data) is an error: the pixels are not the picture.
    if (level == -1) {
        switch (cinfo->err->msg_code) {
        case JWRN_BOGUS_PROGRESSION:
        case JWRN_EXTRANEOUS_DATA:
        case JWRN_HIT_MARKER:
        case JWRN_HUFF_BAD_CODE:
        case JWRN_MUST_RESYNC:
        case JWRN_NOT_SEQUENTIAL: {
            char text[JMSG_LENGTH_MAX];
            (*cinfo->err->format_message)(cinfo, text);
            cimageio_set_message(context->message, context->capacity, "libjpeg: %s", text);
            longjmp(context->jump, 1);
        }
        default: break;
        }
    }
    // Other warnings (an unknown JFIF revision or Adobe transform, a bad ICC profile) and
    // trace messages are not printed.
}

static void install_error_manager(jpeg_error_context *context, char *message, size_t capacity) {
    memset(context, 0, sizeof *context);
    jpeg_std_error(&context->base);
    context->base.error_exit = on_jpeg_error;
    context->base.emit_message = on_jpeg_message;
    context->message = message;
    context->capacity = capacity;
}

// MARK: - Probing

static int is_start_of_frame(uint8_t marker) {
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

int cimageio_jpeg_probe(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height) {
    // Walk the marker segments up to the first start-of-frame, which carries the size.
    size_t position = 2;
    while (position < size) {
        if (data[position] != 0xFF) return CIMAGEIO_CORRUPT;
        while (position < size && data[position] == 0xFF) position++;  // fill bytes
        if (position >= size) break;
        uint8_t marker = data[position++];
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length field
        if (marker == 0xD9 || marker == 0xDA) return CIMAGEIO_CORRUPT;       // end or scan before a frame
        if (position + 2 > size) break;
        size_t length = ((size_t)data[position] << 8) | data[position + 1];
        if (length < 2) return CIMAGEIO_CORRUPT;
        if (is_start_of_frame(marker)) {
            if (position + 7 > size) break;
            if (height) *height = ((uint32_t)data[position + 3] << 8) | data[position + 4];
            if (width) *width = ((uint32_t)data[position + 5] << 8) | data[position + 6];
            return CIMAGEIO_OK;
        }
        position += length;
    }
    return CIMAGEIO_TRUNCATED;
}

// MARK: - Decoding

int cimageio_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                         cimageio_image *out, char *message, size_t capacity) {
    uint32_t header_width = 0, header_height = 0;
    if (cimageio_jpeg_probe(data, size, &header_width, &header_height) == CIMAGEIO_OK &&
        (uint64_t)header_width * header_height > max_pixels) {
        cimageio_set_message(message, capacity, "%u x %u pixels is more than the limit of %llu",
                             header_width, header_height, (unsigned long long)max_pixels);
        return CIMAGEIO_TOO_LARGE;
    }

    struct jpeg_decompress_struct cinfo;
    jpeg_error_context error_context;
    install_error_manager(&error_context, message, capacity);
    cinfo.err = &error_context.base;

    uint8_t *volatile pixels = NULL;
    uint8_t *volatile cmyk_row = NULL;
    volatile int status = CIMAGEIO_CORRUPT;

    if (setjmp(error_context.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(cmyk_row);
        if (error_context.truncated) return CIMAGEIO_TRUNCATED;
        return status;
    }

    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    if ((uint64_t)cinfo.image_width * cinfo.image_height > max_pixels) {
        status = CIMAGEIO_TOO_LARGE;
        cimageio_set_message(message, capacity, "%u x %u pixels is more than the limit of %llu",
                             cinfo.image_width, cinfo.image_height, (unsigned long long)max_pixels);
        longjmp(error_context.jump, 1);
    }

    int cmyk = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; cmyk = 1; break;
    default: cinfo.out_color_space = JCS_RGB; break;
    }
    int progressive = jpeg_has_multiple_scans(&cinfo) ? 1 : 0;
    jpeg_start_decompress(&cinfo);

    uint32_t channels = cmyk ? 3 : (uint32_t)cinfo.output_components;
    if (!(channels == 1 || channels == 3) || (cmyk && cinfo.output_components != 4)) {
        status = CIMAGEIO_UNSUPPORTED;
        cimageio_set_message(message, capacity, "JPEG with %d colour components", cinfo.output_components);
        longjmp(error_context.jump, 1);
    }
    size_t stride = (size_t)cinfo.output_width * channels;
    pixels = (uint8_t *)malloc(stride * cinfo.output_height);
    if (cmyk) cmyk_row = (uint8_t *)malloc((size_t)cinfo.output_width * 4);
    if (pixels == NULL || (cmyk && cmyk_row == NULL)) {
        status = CIMAGEIO_OUT_OF_MEMORY;
        cimageio_set_message(message, capacity, "out of memory");
        longjmp(error_context.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *row = pixels + (size_t)cinfo.output_scanline * stride;
        if (!cmyk) {
            JSAMPROW rows[1] = {row};
            jpeg_read_scanlines(&cinfo, rows, 1);
            continue;
        }
        JSAMPROW rows[1] = {cmyk_row};
        jpeg_read_scanlines(&cinfo, rows, 1);
        // Adobe writes CMYK inverted (255 = no ink); others write it plainly.
        for (uint32_t x = 0; x < cinfo.output_width; x++) {
            unsigned c = cmyk_row[4 * x], m = cmyk_row[4 * x + 1], yy = cmyk_row[4 * x + 2], k = cmyk_row[4 * x + 3];
            if (!cinfo.saw_Adobe_marker) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
            row[3 * x] = (uint8_t)((c * k + 127) / 255);
            row[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
            row[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
        }
    }
    jpeg_finish_decompress(&cinfo);

    out->width = cinfo.output_width;
    out->height = cinfo.output_height;
    out->channels = channels;
    out->pixels = pixels;
    out->format = CIMAGEIO_FORMAT_JPEG;
    out->source_bit_depth = 8;
    out->source_color_type = (uint32_t)cinfo.num_components;
    out->interlaced_or_progressive = (uint32_t)progressive;
    free(cmyk_row);
    jpeg_destroy_decompress(&cinfo);
    return CIMAGEIO_OK;
}

// MARK: - Encoding

typedef struct {
    struct jpeg_destination_mgr base;
    uint8_t *data;
    size_t capacity;
    size_t size;
} jpeg_memory_destination;

static void destination_init(j_compress_ptr cinfo) {
    jpeg_memory_destination *destination = (jpeg_memory_destination *)cinfo->dest;
    destination->capacity = 65536;
    destination->data = (uint8_t *)malloc(destination->capacity);
    if (destination->data == NULL) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
    destination->base.next_output_byte = destination->data;
    destination->base.free_in_buffer = destination->capacity;
}

static boolean destination_grow(j_compress_ptr cinfo) {
    jpeg_memory_destination *destination = (jpeg_memory_destination *)cinfo->dest;
    size_t used = destination->capacity;  // called only when the buffer is full
    uint8_t *grown = (uint8_t *)realloc(destination->data, destination->capacity * 2);
    if (grown == NULL) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 1);
    destination->data = grown;
    destination->capacity *= 2;
    destination->base.next_output_byte = grown + used;
    destination->base.free_in_buffer = destination->capacity - used;
    return TRUE;
}

static void destination_term(j_compress_ptr cinfo) {
    jpeg_memory_destination *destination = (jpeg_memory_destination *)cinfo->dest;
    destination->size = destination->capacity - destination->base.free_in_buffer;
}

int cimageio_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                         int quality, int progressive,
                         uint8_t **out, size_t *out_size,
                         char *message, size_t capacity) {
    if (out == NULL || out_size == NULL || pixels == NULL) {
        cimageio_set_message(message, capacity, "missing argument");
        return CIMAGEIO_INVALID_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    if (!(channels == 1 || channels == 3)) {
        cimageio_set_message(message, capacity, "JPEG needs grey or RGB pixels, not %u channels", channels);
        return CIMAGEIO_INVALID_ARGUMENT;
    }
    if (width == 0 || height == 0 || width > 65500 || height > 65500) {
        cimageio_set_message(message, capacity, "a JPEG cannot be %u x %u pixels", width, height);
        return CIMAGEIO_INVALID_ARGUMENT;
    }

    struct jpeg_compress_struct cinfo;
    jpeg_error_context error_context;
    install_error_manager(&error_context, message, capacity);
    cinfo.err = &error_context.base;
    jpeg_memory_destination destination;
    memset(&destination, 0, sizeof destination);

    if (setjmp(error_context.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(destination.data);
        return CIMAGEIO_CORRUPT;
    }

    jpeg_create_compress(&cinfo);
    destination.base.init_destination = destination_init;
    destination.base.empty_output_buffer = destination_grow;
    destination.base.term_destination = destination_term;
    cinfo.dest = &destination.base;

    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = (int)channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = {(JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride)};
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = destination.data;
    *out_size = destination.size;
    return CIMAGEIO_OK;
}
