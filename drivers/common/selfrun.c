/* SPDX-License-Identifier: MIT */
#include "selfrun.h"

#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int pk_run_self_json(char *const args[], json_t **record)
{
    return pk_run_json("/proc/self/exe", args, NULL, record);
}

int pk_run_json(const char *path, char *const args[], char *const envp[], json_t **record)
{
    *record = NULL;
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        if (envp)
            execve(path, args, envp);
        else
            execv(path, args);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    json_error_t jerr;
    /* files --make prints a line before nothing else; the record is the first JSON value */
    *record = f ? json_loadf(f, JSON_DISABLE_EOF_CHECK, &jerr) : NULL;
    if (f) {
        char sink[4096];
        while (fread(sink, 1, sizeof sink, f) > 0)
            continue;
        fclose(f);
    } else {
        close(fd[0]);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        continue;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return rc == 0 && !*record ? -1 : rc; /* a failure's own status, e.g. 2 for usage */
}
