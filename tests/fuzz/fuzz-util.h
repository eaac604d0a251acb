/* fuzz-util.h: what every fuzz target shares, under libFuzzer and under the corpus replay. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Once per process: a log handler that drops the warnings a damaged input rightly causes but
 * aborts on a critical (a broken precondition is a bug, whatever the input). GLib reads
 * G_SLICE before any of this runs: the callers set G_SLICE=always-malloc in the environment,
 * so that LeakSanitizer sees GLib's blocks (run-fuzzers.sh; replay.c runs itself again). */
void sb_fuzz_init (void);

/* A directory of this process, emptied of the files the last input wrote. */
const char *sb_fuzz_dir (void);

/* Writes @data to NAME in sb_fuzz_dir() (replacing it) and returns the path. */
char *sb_fuzz_write_file (const char *name, const uint8_t *data, size_t size);

/* Aborts with @what when a property that must hold for every input does not. */
#define SB_FUZZ_ASSERT(cond, what)                                                           \
  do                                                                                         \
    {                                                                                        \
      if (!(cond))                                                                           \
        sb_fuzz_fail (__FILE__, __LINE__, what);                                             \
    }                                                                                        \
  while (0)
G_NORETURN void sb_fuzz_fail (const char *file, int line, const char *what);
