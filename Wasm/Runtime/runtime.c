// The C library the module needs, inside the module: a memory allocator over the WebAssembly
// linear memory, the mem* functions (WebAssembly bulk-memory instructions), and putchar, which
// keeps what Swift prints in a buffer the JavaScript glue reads. (An optimised Embedded Swift
// build traps without a message: the glue names the export that trapped instead.)
//
// Freestanding: no libc, no imports. Built with the toolchain's clang for wasm32 by
// scripts/build-wasm.sh.

#include <stddef.h>
#include <stdint.h>

// MARK: - Memory

extern unsigned char __heap_base;

#define PAGE 65536u
#define SMALL_CLASSES 12            // chunk sizes 32, 64, ..., 65536
#define SMALL_MAX (32u << (SMALL_CLASSES - 1))
#define SPLIT_MIN 4096u             // a large chunk is split when at least this much is left

// A chunk: [size: 4 bytes][...16-byte aligned payload area...]. Free chunks keep the next
// free chunk's address in their second word.
typedef struct Chunk { uint32_t size; struct Chunk *next; } Chunk;

static uintptr_t heap_top;          // the first byte never handed out
static Chunk *small_free[SMALL_CLASSES];
static Chunk *large_free;           // address order, adjacent chunks merged

static int grow_to(uintptr_t end) {
    uintptr_t have = __builtin_wasm_memory_size(0) * (uintptr_t)PAGE;
    if (end <= have) return 1;
    uintptr_t pages = (end - have + PAGE - 1) / PAGE;
    uintptr_t extra = have / PAGE / 8;  // grow by at least an eighth, so growth is rare
    if (extra < 16) extra = 16;
    if (pages < extra && __builtin_wasm_memory_grow(0, extra) != (size_t)-1) return 1;
    return __builtin_wasm_memory_grow(0, pages) != (size_t)-1;
}

static Chunk *bump(uint32_t size) {
    if (heap_top == 0) heap_top = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
    if (size > UINT32_MAX - heap_top || !grow_to(heap_top + size)) return NULL;
    Chunk *c = (Chunk *)heap_top;
    heap_top += size;
    c->size = size;
    return c;
}

static int small_class(uint32_t size) {
    int k = 0;
    while ((32u << k) < size) k++;
    return k;
}

static Chunk *chunk_alloc(uint32_t need) {
    if (need <= SMALL_MAX) {
        int k = small_class(need);
        Chunk *c = small_free[k];
        if (c) { small_free[k] = c->next; return c; }
        return bump(32u << k);
    }
    need = (need + 15u) & ~15u;
    for (Chunk **link = &large_free; *link; link = &(*link)->next) {
        Chunk *c = *link;
        if (c->size < need) continue;
        if (c->size - need >= SPLIT_MIN) {
            Chunk *rest = (Chunk *)((uintptr_t)c + need);
            rest->size = c->size - need;
            rest->next = c->next;
            *link = rest;
            c->size = need;
        } else {
            *link = c->next;
        }
        return c;
    }
    return bump(need);
}

static void chunk_free(Chunk *c) {
    if (c->size <= SMALL_MAX) {
        int k = small_class(c->size);
        c->next = small_free[k];
        small_free[k] = c;
        return;
    }
    Chunk *prev = NULL, *next = large_free;
    while (next && next < c) { prev = next; next = next->next; }
    c->next = next;
    if (next && (uintptr_t)c + c->size == (uintptr_t)next) { c->size += next->size; c->next = next->next; }
    if (prev && (uintptr_t)prev + prev->size == (uintptr_t)c) { prev->size += c->size; prev->next = c->next; c = prev; }
    else if (prev) prev->next = c; else large_free = c;
    // A free chunk at the top of the heap goes back to the bump region.
    if ((uintptr_t)c + c->size == heap_top) {
        if (prev && prev->next == c) prev->next = c->next;
        else if (large_free == c) large_free = c->next;
        else for (Chunk *p = large_free; p; p = p->next) if (p->next == c) { p->next = c->next; break; }
        heap_top = (uintptr_t)c;
    }
}

// The pointer handed out is at least 16 bytes into its chunk; the word before it holds the
// chunk's address.
static void *allocate(size_t alignment, size_t size) {
    if (alignment < 16) alignment = 16;
    if ((alignment & (alignment - 1)) != 0 || alignment > PAGE) return NULL;
    if (size > UINT32_MAX - 2 * PAGE) return NULL;
    uint32_t need = (uint32_t)size + (uint32_t)alignment;
    Chunk *c = chunk_alloc(need);
    if (!c) return NULL;
    uintptr_t p = ((uintptr_t)c + 16 + alignment - 1) & ~(uintptr_t)(alignment - 1);
    ((uint32_t *)p)[-1] = (uint32_t)(uintptr_t)c;
    return (void *)p;
}

static Chunk *chunk_of(void *p) { return (Chunk *)(uintptr_t)((uint32_t *)p)[-1]; }

void *malloc(size_t size) { return allocate(16, size); }

void free(void *p) { if (p) chunk_free(chunk_of(p)); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL
    void *p = allocate(alignment, size);
    if (!p) return 12;  // ENOMEM
    *out = p;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) { return allocate(alignment, size); }

void *calloc(size_t count, size_t size) {
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    void *p = allocate(16, count * size);
    if (p) __builtin_memset(p, 0, count * size);
    return p;
}

void *realloc(void *p, size_t size) {
    if (!p) return malloc(size);
    Chunk *c = chunk_of(p);
    size_t usable = (uintptr_t)c + c->size - (uintptr_t)p;
    if (size <= usable) return p;
    void *q = malloc(size);
    if (!q) return NULL;
    __builtin_memcpy(q, p, usable);
    free(p);
    return q;
}

size_t malloc_usable_size(void *p) {
    if (!p) return 0;
    Chunk *c = chunk_of(p);
    return (uintptr_t)c + c->size - (uintptr_t)p;
}

/// Memory for JavaScript to fill or read (16-byte aligned); null when the memory cannot grow.
__attribute__((export_name("digits_alloc"))) void *digits_alloc(int32_t bytes) {
    return bytes < 0 ? NULL : allocate(16, (size_t)bytes);
}

__attribute__((export_name("digits_free"))) void digits_free(void *p) { free(p); }

/// Bytes of linear memory in use by the heap (for the glue's diagnostics).
__attribute__((export_name("digits_heap_top"))) uint32_t digits_heap_top(void) { return (uint32_t)heap_top; }

// MARK: - mem* (bulk-memory instructions)

void *memcpy(void *d, const void *s, size_t n) { __builtin_memcpy(d, s, n); return d; }
void *memmove(void *d, const void *s, size_t n) { __builtin_memmove(d, s, n); return d; }
void *memset(void *d, int v, size_t n) { __builtin_memset(d, v, n); return d; }

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

// MARK: - Output

// What Swift prints: the last 4 KB, shown by the glue with a trap.
#define LOG_SIZE 4096u
static char log_buffer[LOG_SIZE];
static uint32_t log_length;

int putchar(int ch) {
    if (log_length == LOG_SIZE) {
        __builtin_memmove(log_buffer, log_buffer + LOG_SIZE / 2, LOG_SIZE / 2);
        log_length = LOG_SIZE / 2;
    }
    log_buffer[log_length++] = (char)ch;
    return ch;
}

__attribute__((export_name("digits_log_pointer"))) const char *digits_log_pointer(void) { return log_buffer; }
__attribute__((export_name("digits_log_length"))) uint32_t digits_log_length(void) { return log_length; }
__attribute__((export_name("digits_log_clear"))) void digits_log_clear(void) { log_length = 0; }

// MARK: - Randomness

// Seeds the standard library's hashing (Set, Dictionary). Nothing here needs unpredictable
// hashes, and fixed ones keep every run the same.
void arc4random_buf(void *buffer, size_t n) {
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    unsigned char *p = buffer;
    for (size_t i = 0; i < n; i++) {
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        p[i] = (unsigned char)((x * 0x2545F4914F6CDD1DULL) >> 56);
    }
}
