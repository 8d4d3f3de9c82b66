/* SPDX-License-Identifier: MIT */
/*
 * demo_once.c - the racy lazy initialisation, fixed by goconc_once.
 *
 * In Go (and in C), `if (config == NULL) config = load_config();` run from
 * many goroutines at once is a data race: several of them see NULL, the
 * loader runs several times, and some readers see a config that is only
 * half written.  sync.Once fixes it; goconc_once_do is the same, and
 * goconc_once_try adds what Go users asked for (golang/go#22098): an
 * initialisation that may fail and is retried by a later call.
 *
 * The racy version is only described here, not run: it is undefined
 * behaviour, and the demo must stay clean under ThreadSanitizer.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "demo.h"

#define RACERS 8

struct config {
    char server[32];
    int port;
    int workers;
};

static goconc_once config_once = GOCONC_ONCE_INIT;
static struct config config;     /* written once, by the once function */
static int loads;                /* how many times load_config ran */

static void load_config(void *ctx)
{
    struct timespec ts = { 0, 50 * 1000000L };
    (void)ctx;
    __atomic_fetch_add(&loads, 1, __ATOMIC_RELAXED);
    /* A slow load: the other threads arrive meanwhile and wait. */
    nanosleep(&ts, NULL);
    strcpy(config.server, "db.internal");
    config.port = 5432;
    config.workers = 16;
}

static int saw_full_config[RACERS];

static void *racer(void *p)
{
    int i = (int)(intptr_t)p;
    if (goconc_once_do(&config_once, load_config, NULL) == GOCONC_OK)
        saw_full_config[i] = strcmp(config.server, "db.internal") == 0 &&
                             config.port == 5432 && config.workers == 16;
    return NULL;
}

/* once_try: the first attempt fails (the file is not there yet). */
static int attempts;
static int connect_pool(void *ctx)
{
    int *file_present = ctx;
    attempts++;
    return *file_present ? 0 : GOCONC_NOTFOUND;
}

int demo_once(void)
{
    pthread_t t[RACERS];
    goconc_once pool_once = GOCONC_ONCE_INIT;
    int i, all_full = 1, file_present = 0, rc1, rc2, rc3, ok;

    DEMO_TITLE("once: a racy lazy initialisation, done once");
    DEMO_SAY("Go: `if config == nil { config = load() }` from many goroutines "
             "is a data race;");
    DEMO_SAY("the loader runs several times and readers may see a half-written "
             "config.");
    DEMO_SAY("Here %d threads race on goconc_once_do(&config_once, "
             "load_config, NULL).", RACERS);
    for (i = 0; i < RACERS; i++)
        pthread_create(&t[i], NULL, racer, (void *)(intptr_t)i);
    for (i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    for (i = 0; i < RACERS; i++)
        all_full &= saw_full_config[i];
    DEMO_SAY("load_config ran %d time(s); %s thread saw the full config "
             "(server %s, port %d).", loads, all_full ? "every" : "NOT every",
             config.server, config.port);
    DEMO_SAY("goconc_once_done(&config_once) = %d: later callers pay one "
             "load.", goconc_once_done(&config_once));

    DEMO_SAY("An initialisation that can fail: goconc_once_try.");
    rc1 = goconc_once_try(&pool_once, connect_pool, &file_present);
    DEMO_SAY("first try: the file is missing, fn returns %d (%s); done = %d.",
             rc1, goconc_strerror(rc1), goconc_once_done(&pool_once));
    file_present = 1;
    rc2 = goconc_once_try(&pool_once, connect_pool, &file_present);
    DEMO_SAY("second try: fn succeeds, status %d; done = %d.", rc2,
             goconc_once_done(&pool_once));
    rc3 = goconc_once_try(&pool_once, connect_pool, &file_present);
    DEMO_SAY("third call: already done, fn not run; %d attempt(s) in all.",
             attempts);

    ok = loads == 1 && all_full && goconc_once_done(&config_once) &&
         rc1 == GOCONC_NOTFOUND && rc2 == GOCONC_OK && rc3 == GOCONC_OK &&
         attempts == 2 && goconc_once_done(&pool_once);
    DEMO_SAY("%s", ok ? "As promised: one load, everyone saw it, a failed "
                        "try was retried."
                      : "MISBEHAVED: see the lines above.");
    return ok ? 0 : 1;
}
