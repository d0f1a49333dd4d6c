/* libFuzzer target: the FAT reader of fs/ through vb_fs_probe and vb_fs_lookup.
 *
 * Input: a volume in the sparse encoding of fuzz_volume_init (seeds from
 * tests/fuzz/make_seeds.sh). The corpus holds FAT volumes, so the fuzzer
 * spends its time in that reader; the exercise itself is fuzz_fs_exercise. */
#include "fs_exercise.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_volume vol;
    if (fuzz_volume_init(&vol, data, size))
        fuzz_fs_exercise(&vol.src);
    fuzz_volume_free(&vol);
    return 0;
}
