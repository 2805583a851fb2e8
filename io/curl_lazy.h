/* SPDX-License-Identifier: MIT */
/* Private to io/: libcurl loaded on first use instead of linked. With what it pulls in (TLS,
 * Kerberos, LDAP, SSH: about 25 libraries) linking it cost every parkit process about 14 ms and
 * 430 page faults at start-up, though only fetch uses it. http.c and http_loop.c call libcurl
 * by its own names, which this header maps onto the loaded functions; pk_curl_load() must have
 * succeeded first (pk_http_global_init and every client's creation call it). */
#ifndef PARKIT_IO_CURL_LAZY_H
#define PARKIT_IO_CURL_LAZY_H

#include "parkit/status.h"

#include <curl/curl.h>

struct pk_curl_api {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_global_cleanup) *global_cleanup;
    __typeof__(curl_version) *version;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_perform) *easy_perform;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_easy_header) *easy_header;
    __typeof__(curl_multi_init) *multi_init;
    __typeof__(curl_multi_cleanup) *multi_cleanup;
    __typeof__(curl_multi_setopt) *multi_setopt;
    __typeof__(curl_multi_add_handle) *multi_add_handle;
    __typeof__(curl_multi_remove_handle) *multi_remove_handle;
    __typeof__(curl_multi_socket_action) *multi_socket_action;
    __typeof__(curl_multi_info_read) *multi_info_read;
    __typeof__(curl_multi_assign) *multi_assign;
};

extern struct pk_curl_api pk_curl;

/* Loads libcurl once (thread-safe). PK_ENET, with the loader's message in err, when it cannot. */
int pk_curl_load(struct pk_err *err);

#ifndef PK_CURL_LAZY_IMPL
/* typecheck-gcc.h makes some of these macros; the loaded functions take their place */
#    undef curl_easy_setopt
#    undef curl_easy_getinfo
#    undef curl_multi_setopt
#    define curl_global_init         pk_curl.global_init
#    define curl_global_cleanup      pk_curl.global_cleanup
#    define curl_version             pk_curl.version
#    define curl_easy_init           pk_curl.easy_init
#    define curl_easy_cleanup        pk_curl.easy_cleanup
#    define curl_easy_setopt         pk_curl.easy_setopt
#    define curl_easy_getinfo        pk_curl.easy_getinfo
#    define curl_easy_perform        pk_curl.easy_perform
#    define curl_easy_strerror       pk_curl.easy_strerror
#    define curl_easy_header         pk_curl.easy_header
#    define curl_multi_init          pk_curl.multi_init
#    define curl_multi_cleanup       pk_curl.multi_cleanup
#    define curl_multi_setopt        pk_curl.multi_setopt
#    define curl_multi_add_handle    pk_curl.multi_add_handle
#    define curl_multi_remove_handle pk_curl.multi_remove_handle
#    define curl_multi_socket_action pk_curl.multi_socket_action
#    define curl_multi_info_read     pk_curl.multi_info_read
#    define curl_multi_assign        pk_curl.multi_assign
#endif

#endif
