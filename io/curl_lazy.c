/* SPDX-License-Identifier: MIT */
/* libcurl by its soname (PK_CURL_SONAME, from the library CMake found), once per process. */
#define PK_CURL_LAZY_IMPL
#include "curl_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct pk_curl_api pk_curl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char why[256] = "not loaded"; /* why it is not, once tried */

/* POSIX guarantees a function's address survives dlsym's void *. */
#define SYM(field, name)                                                                           \
    do {                                                                                           \
        void *p_ = dlsym(h, name);                                                                 \
        if (!p_) {                                                                                 \
            snprintf(why, sizeof why, "%s has no %s", PK_CURL_SONAME, name);                       \
            return;                                                                                \
        }                                                                                          \
        memcpy(&api.field, &p_, sizeof p_);                                                        \
    } while (0)

static void load(void)
{
    struct pk_curl_api api;
    void *h = dlopen(PK_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(why, sizeof why, "%s", e ? e : PK_CURL_SONAME " not found");
        return;
    }
    SYM(global_init, "curl_global_init");
    SYM(global_cleanup, "curl_global_cleanup");
    SYM(version, "curl_version");
    SYM(easy_init, "curl_easy_init");
    SYM(easy_cleanup, "curl_easy_cleanup");
    SYM(easy_setopt, "curl_easy_setopt");
    SYM(easy_getinfo, "curl_easy_getinfo");
    SYM(easy_perform, "curl_easy_perform");
    SYM(easy_strerror, "curl_easy_strerror");
    SYM(easy_header, "curl_easy_header");
    SYM(multi_init, "curl_multi_init");
    SYM(multi_cleanup, "curl_multi_cleanup");
    SYM(multi_setopt, "curl_multi_setopt");
    SYM(multi_add_handle, "curl_multi_add_handle");
    SYM(multi_remove_handle, "curl_multi_remove_handle");
    SYM(multi_socket_action, "curl_multi_socket_action");
    SYM(multi_info_read, "curl_multi_info_read");
    SYM(multi_assign, "curl_multi_assign");
    pk_curl = api;
}

int pk_curl_load(struct pk_err *err)
{
    pthread_once(&once, load);
    if (pk_curl.global_init)
        return PK_OK;
    return pk_fail(err, PK_ENET, "libcurl could not be loaded: %s", why);
}
