/* vhdboot fuzzing: helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Inputs that hold several files are split at FUZZ_SEPARATOR; volume images
 * for the file-system targets use a sparse encoding (see fuzz_volume_init)
 * so a seed of a 1 MiB NTFS volume stays a few KiB. A property violation
 * calls fuzz_fail, which aborts so libFuzzer records the input as a crash. */
#ifndef VB_FUZZ_SUPPORT_H
#define VB_FUZZ_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "format/vhd.h"
#include "tests/unit/memsource.h"

#define FUZZ_SEPARATOR "#VBFILE#"
#define FUZZ_SEPARATOR_LEN 8u
#define FUZZ_MAX_FILES 3u

/* One piece of the input. */
typedef struct fuzz_piece {
    const uint8_t *data;
    size_t size;
} fuzz_piece;

/* Splits data at FUZZ_SEPARATOR into at most max pieces (the last one takes
 * the rest). Returns the number of pieces (at least 1). */
unsigned fuzz_split(const uint8_t *data, size_t size, fuzz_piece *out, unsigned max);

/* A small deterministic generator seeded from the input bytes. */
typedef struct fuzz_rng {
    uint64_t state;
} fuzz_rng;

/* Seeds rng from a hash of data. */
void fuzz_rng_seed(fuzz_rng *rng, const uint8_t *data, size_t size);
/* Returns the next 32 pseudo-random bits. */
uint32_t fuzz_rng_next(fuzz_rng *rng);
/* Returns a value in [0, bound) (0 when bound is 0). */
uint64_t fuzz_rng_below(fuzz_rng *rng, uint64_t bound);

/* An opener over in-memory files: "\vm\top.vhd" is file 0; every other
 * distinct path gets the next unused file (1, 2, ...) the first time it is
 * asked for and the same file afterwards, so parent locators of any spelling
 * reach the following files and A->B->A cycles are possible. */
typedef struct fuzz_files {
    memsource *files[FUZZ_MAX_FILES];
    unsigned count;
    char paths[FUZZ_MAX_FILES][VB_PATH_MAX];
    unsigned assigned;        /* files handed to a path so far (file 0 is the top) */
} fuzz_files;

#define FUZZ_TOP_PATH "\\vm\\top.vhd"

/* Fills files with one memsource per piece (writable unless readonly).
 * Returns the opener reading them. */
vb_opener fuzz_files_init(fuzz_files *files, const fuzz_piece *pieces, unsigned count, bool readonly);
/* Frees the memsources. */
void fuzz_files_free(fuzz_files *files);

/* Recomputes the checksums of a VHD held in ms: the trailing footer, the
 * footer copy at offset 0 and the dynamic header its data offset points to
 * (when inside the file), so mutations reach the checks behind them. */
void fuzz_fix_vhd_checksums(memsource *ms);

/* A read-only volume described sparsely by the fuzz input (no copy of the
 * zeros: volumes up to 64 MiB cost only their records). */
typedef struct fuzz_record {
    uint64_t offset;
    size_t len;
    const uint8_t *data;      /* points into the fuzz input */
} fuzz_record;

typedef struct fuzz_volume {
    vb_source src;            /* read-only; ctx points back here */
    fuzz_record *records;
    size_t count;
} fuzz_volume;

/* Builds a volume from a sparse description: the first 2 bytes give the
 * volume size in KiB (little endian, 0 counts as 1), then records of
 * [offset: 4 bytes LE, taken modulo the size][length: 2 bytes LE][bytes]
 * lie over zeros (later records win; cut at the volume end or the input
 * end). The input must outlive the volume. Returns false when the input is
 * too short. */
bool fuzz_volume_init(fuzz_volume *vol, const uint8_t *data, size_t size);
/* Frees the record list. */
void fuzz_volume_free(fuzz_volume *vol);

/* Compares len bytes without feeding libFuzzer's comparison tracing (which
 * is slow on large buffers). Returns true when equal. */
bool fuzz_same(const void *a, const void *b, size_t len);

/* Reports a broken property and aborts (libFuzzer saves the input). */
void fuzz_fail(const char *what) __attribute__((noreturn));

#endif
