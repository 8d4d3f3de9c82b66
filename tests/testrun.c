/* SPDX-License-Identifier: MIT */
/*
 * testrun.c - the Check runner of testutil.h: a suite from one table of
 * its tests, and the count of those that must run.  Needs Check alone,
 * not libgoconc, so lifecycle_dlopen (which loads the library itself)
 * links it too.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int skipped;

int tu_skipped(const char *name)
{
    const char *list = getenv("GOCONC_TEST_SKIP"), *p;
    size_t n = strlen(name);
    for (p = list; p && *p; p += strcspn(p, ","), p += *p == ',') {
        if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0')) {
            fprintf(stderr, "skipped: %s (GOCONC_TEST_SKIP)\n", name);
            skipped++;
            return 1;
        }
    }
    return 0;
}

/*
 * Whether Check itself runs what is named @p name, given its environment
 * variables @p run_var and @p exclude_var (CK_RUN_CASE / CK_EXCLUDE_CASE,
 * or the _SUITE pair).  Check 0.15 compares each with strcmp: one name,
 * no list, and a variable set to "" matches nothing.  Mirrored here so
 * the expected count is the count Check will run.
 */
static int check_runs(const char *run_var, const char *exclude_var, const char *name)
{
    const char *run = getenv(run_var), *exclude = getenv(exclude_var);
    return (run == NULL || strcmp(run, name) == 0) && (exclude == NULL || strcmp(exclude, name) != 0);
}

static int filtered_by_check(void)
{
    static const char *const vars[] = { "CK_RUN_CASE", "CK_EXCLUDE_CASE", "CK_RUN_SUITE",
                                        "CK_EXCLUDE_SUITE" };
    size_t i;
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]) != NULL)
            return 1;
    return 0;
}

/* A row listed twice (a merge that kept both sides, say) would run twice. */
static int check_table(const struct tu_suite *su, const struct tu_case *cases, size_t n)
{
    size_t i, j;
    if (su->name == NULL || !(su->timeout > 0)) {
        fprintf(stderr, "TU_RUN: a suite needs .name and a .timeout > 0\n");
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (cases[i].end < cases[i].start) {
            fprintf(stderr, "%s: %s: loop [%d, %d) runs backwards\n", su->name, cases[i].name,
                    cases[i].start, cases[i].end);
            return -1;
        }
        for (j = 0; j < i; j++)
            if (strcmp(cases[i].name, cases[j].name) == 0) {
                fprintf(stderr, "%s: %s is listed twice\n", su->name, cases[i].name);
                return -1;
            }
    }
    return 0;
}

/* One Check test case per row, named after its function; returns how
 * many tests the rows kept hold. */
static int add_rows(Suite *s, const struct tu_suite *su, const struct tu_case *cases, size_t n)
{
    int expected = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        const struct tu_case *c = &cases[i];
        TCase *tc;
        if (tu_skipped(c->name))
            continue;
        tc = tcase_create(c->name);
        tcase_set_timeout(tc, su->timeout);
        if (su->setup != NULL || su->teardown != NULL)
            tcase_add_checked_fixture(tc, su->setup, su->teardown);
        tcase_add_loop_test(tc, c->test, c->start, c->end);
        suite_add_tcase(s, tc);
        if (check_runs("CK_RUN_CASE", "CK_EXCLUDE_CASE", c->name))
            expected += c->end - c->start;
    }
    return check_runs("CK_RUN_SUITE", "CK_EXCLUDE_SUITE", su->name) ? expected : 0;
}

int tu_run_cases(const struct tu_suite *su, const struct tu_case *cases, size_t n)
{
    Suite *s;
    SRunner *sr;
    int expected, ran, failed;

    if (check_table(su, cases, n) != 0)
        return EXIT_FAILURE;
    s = suite_create(su->name);
    expected = add_rows(s, su, cases, n);
    if (expected == 0 && filtered_by_check()) {
        /* Check has no suite_free: the process ends here anyway. */
        fprintf(stderr, "%s: the CK_RUN_* / CK_EXCLUDE_* variables leave no test to run\n",
                su->name);
        return EXIT_FAILURE;
    }
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    ran = srunner_ntests_run(sr);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (ran != expected) {
        fprintf(stderr, "%s: expected %d tests to run (%d skipped), %d ran\n", su->name,
                expected, skipped, ran);
        return EXIT_FAILURE;
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
