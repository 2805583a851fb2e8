/* SPDX-License-Identifier: MIT */
/* io/curl_lazy.c built with a soname that does not exist (tests/CMakeLists.txt): loading fails
 * cleanly, with the loader's reason, every time it is asked, and nothing is half-loaded. The
 * real soname is covered by test_http and the fetch tests, which load libcurl this way. */
#include "check.h"
#include "curl_lazy.h"
#include "parkit/status.h"

#include <string.h>

static int case_missing_library(void)
{
    for (int i = 0; i < 2; i++) { /* the second answer is the remembered first */
        struct pk_err err = {0};
        CHECK_EQ_INT(pk_curl_load(&err), PK_ENET);
        CHECK(strstr(err.msg, "libcurl could not be loaded: ") == err.msg);
        CHECK(strstr(err.msg, PK_CURL_SONAME) != NULL);
        CHECK_EQ_INT(pk_curl_load(NULL), PK_ENET); /* no error to fill */
    }
    CHECK(pk_curl.global_init == NULL && pk_curl.easy_setopt == NULL);
    return 0;
}

static const struct check_case cases[] = {
    {"missing_library", case_missing_library},
};

int main(int argc, char **argv)
{
    return CHECK_MAIN(cases);
}
