/* vhdboot fuzzing: the host-volume exercise shared by fuzz_ntfs and fuzz_fat. */
#ifndef VB_FUZZ_FS_EXERCISE_H
#define VB_FUZZ_FS_EXERCISE_H

#include "format/source.h"

/* Probes vol, reads the label, looks up a fixed list of paths (checking each
 * extent map's shape) and reads the files found through extent sources. */
void fuzz_fs_exercise(vb_source *vol);

#endif
