/* SPDX-License-Identifier: MIT */
/*
 * fuzz_replay.c - runs a libFuzzer target (fuzz_<target>.c, linked beside
 * it as fuzz_<target>_replay) without libFuzzer: every file of the corpus
 * directories given as arguments (tests/corpus/<target> in CI), then a
 * batch of seeded random programs (GOCONC_SEED) so each run also tries
 * inputs nobody checked in.  A failing input aborts with the step that
 * went wrong; rerun it alone with `fuzz_<target>_replay FILE`.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static int run_path(const char *path, size_t *count)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char full[4096];

    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        ++*count;
        return run_file(path);
    }
    if ((d = opendir(path)) == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (run_file(full) != 0) {
            closedir(d);
            return -1;
        }
        ++*count;
    }
    closedir(d);
    return 0;
}

int main(int argc, char **argv)
{
    size_t files = 0, i, j, nrand = 300;
    uint64_t s;
    unsigned char buf[1500];
    int a;

    for (a = 1; a < argc; a++) {
        if (run_path(argv[a], &files) != 0) {
            fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[a]);
            return 1;
        }
    }
    if (argc > 1 && files == 0) {
        fprintf(stderr, "%s: empty corpus\n", argv[0]);
        return 1;
    }
    s = tu_seed();
    for (i = 0; i < nrand; i++) {
        size_t len = 1 + tu_rand(&s) % sizeof buf;
        for (j = 0; j < len; j++)
            buf[j] = (unsigned char)tu_rand(&s);
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%s: %zu corpus inputs and %zu random programs passed\n", argv[0], files, nrand);
    return 0;
}
