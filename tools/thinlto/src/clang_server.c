/*
 * A fork server made of the compiler binary itself.
 *
 * Preloaded (LD_PRELOAD) into clang with THINLTO_CLANG_SERVER=1 in its
 * environment, this library takes over the process at the entry to clang's
 * own main(): the dynamic loader has mapped and relocated libLLVM and
 * libclang-cpp and every static constructor has run -- the ~16 ms of CPU a
 * clang process spends before main -- but main has not started. From there
 * it serves requests on stdin, one at a time: for each it forks, and the
 * child sets up the request's working directory, environment and output
 * files and calls clang's unmodified main() with the request's argv, then
 * exits with what main returned, exactly as a fresh `clang ...` process would
 * have after the same start-up. The parent never calls main, so nothing a
 * compile does (options parsed, memory leaked, a crash) reaches the next one.
 *
 * Without THINLTO_CLANG_SERVER=1 the library does nothing: clang's main runs
 * as usual. The server and its children are killed when the client exits.
 *
 * The client starts the server with two files open as descriptors 3 and 4,
 * in append mode: every compile's stdout goes to the first, its stderr to the
 * second (the client empties them before a compile and reads them after).
 *
 * Protocol (stdin: requests, stdout: responses; integers little-endian):
 *   hello    server -> client, once: "THINLTO-CLANG-SERVER 1\n"
 *   request  u32 count, then `count` strings, each u32 length + bytes:
 *              cwd, argc, argv..., envc, env... (argc, envc: decimal)
 *   response i32 wait status (as waitpid gives it), u32 error (errno of a
 *            setup step that failed in the server, 0 if none),
 *            i64 child user+system CPU time in microseconds
 * EOF on stdin ends the server.
 *
 * Only __libc_start_main is exported (-fvisibility=hidden): nothing else in
 * this library can interpose a symbol of clang's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int (*main_fn)(int, char **, char **);
typedef int (*start_fn)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void), void *);

static main_fn real_main;
static int req_fd = -1, resp_fd = -1, out_fd = -1, err_fd = -1;

static int read_full(int fd, void *buf, size_t n) {
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void die(const char *msg) {
    write_full(2, "thinlto-clang-server: ", 22);
    write_full(2, msg, strlen(msg));
    write_full(2, "\n", 1);
    _exit(70);
}

/* One request: the strings, each NUL-terminated, in one allocation. */
struct request {
    char **s;
    uint32_t n;
};

static int read_request(struct request *rq) {
    uint32_t n;
    if (read_full(req_fd, &n, 4) != 0) return -1; /* EOF: the client is gone */
    if (n < 4 || n > (1u << 20)) die("malformed request (string count)");
    char **s = calloc(n + 1, sizeof(char *));
    if (!s) die("out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len;
        if (read_full(req_fd, &len, 4) != 0) die("truncated request");
        if (len > (64u << 20)) die("malformed request (string length)");
        s[i] = malloc(len + 1);
        if (!s[i]) die("out of memory");
        if (read_full(req_fd, s[i], len) != 0) die("truncated request");
        s[i][len] = 0;
    }
    rq->s = s;
    rq->n = n;
    return 0;
}

static void free_request(struct request *rq) {
    for (uint32_t i = 0; i < rq->n; i++) free(rq->s[i]);
    free(rq->s);
}

/* In the child: becomes the request's clang process and never returns. */
static void child(int dir, uint32_t argc, char **argv, char **envp) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(err_fd, 2) < 0 || dup2(out_fd, 1) < 0) _exit(127);
    if (fchdir(dir) != 0) {
        static const char msg[] = "thinlto-clang-server: cannot enter the working directory\n";
        write_full(2, msg, sizeof msg - 1);
        _exit(127);
    }
    close(dir);
    close(out_fd);
    close(err_fd);
    close(req_fd);
    close(resp_fd);
    environ = envp;
    exit(real_main((int)argc, argv, envp)); /* exit(), as returning from main does */
}

static int serve(void) {
    /* The server and its compiles end with the client (a worker Bazel killed, say). */
    pid_t client = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != client) return 0;
    /* The protocol's pipes move off 0 and 1, which the children take over. */
    req_fd = fcntl(0, F_DUPFD_CLOEXEC, 10);
    resp_fd = fcntl(1, F_DUPFD_CLOEXEC, 10);
    out_fd = fcntl(3, F_DUPFD_CLOEXEC, 10);
    err_fd = fcntl(4, F_DUPFD_CLOEXEC, 10);
    if (req_fd < 0 || resp_fd < 0 || out_fd < 0 || err_fd < 0) die("cannot move the protocol's file descriptors");
    /* 3, 4 and whatever else the client passed (the library's own file): not for clang. */
    for (int fd = 3; fd < 10; fd++) close(fd);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(2, 1) < 0) die("cannot reopen stdin/stdout");
    close(null);
    unsetenv("LD_PRELOAD");
    unsetenv("THINLTO_CLANG_SERVER");
    static const char hello[] = "THINLTO-CLANG-SERVER 1\n";
    if (write_full(resp_fd, hello, sizeof hello - 1) != 0) return 0;
    struct request rq;
    while (read_request(&rq) == 0) {
        char *end;
        unsigned long argc = strtoul(rq.s[1], &end, 10);
        if (*end || argc == 0 || 2 + argc + 1 > rq.n) die("malformed request (argc)");
        unsigned long envc = strtoul(rq.s[2 + argc], &end, 10);
        if (*end || 3 + argc + envc != rq.n) die("malformed request (envc)");
        /* argv and envp as NULL-terminated arrays pointing into the request. */
        char **argv = calloc(argc + 1, sizeof(char *));
        char **envp = calloc(envc + 1, sizeof(char *));
        if (!argv || !envp) die("out of memory");
        memcpy(argv, rq.s + 2, argc * sizeof(char *));
        memcpy(envp, rq.s + 3 + argc, envc * sizeof(char *));

        int32_t status = 0;
        uint32_t error = 0;
        int64_t cpu_us = 0;
        /* The working directory is opened here, in the server: failing is reported as `error`. */
        int dir = open(rq.s[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) {
            error = (uint32_t)errno;
        } else {
            pid_t pid = fork();
            if (pid == 0) child(dir, (uint32_t)argc, argv, envp);
            if (pid < 0) {
                error = (uint32_t)errno;
            } else {
                int st;
                struct rusage ru;
                pid_t w;
                do w = wait4(pid, &st, 0, &ru);
                while (w < 0 && errno == EINTR);
                if (w < 0) {
                    error = (uint32_t)errno;
                } else {
                    status = st;
                    cpu_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
                             (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
                }
            }
        }
        if (dir >= 0) close(dir);
        free(argv);
        free(envp);
        free_request(&rq);
        char resp[16];
        memcpy(resp, &status, 4);
        memcpy(resp + 4, &error, 4);
        memcpy(resp + 8, &cpu_us, 8);
        if (write_full(resp_fd, resp, sizeof resp) != 0) break;
    }
    return 0;
}

static int server_main(int argc, char **argv, char **envp) {
    const char *mode = getenv("THINLTO_CLANG_SERVER");
    if (mode && strcmp(mode, "1") == 0) return serve();
    return real_main(argc, argv, envp);
}

__attribute__((visibility("default"))) int __libc_start_main(main_fn main, int argc, char **argv,
                                                             void (*init)(void), void (*fini)(void),
                                                             void (*rtld_fini)(void), void *stack_end) {
    start_fn next = (start_fn)dlsym(RTLD_NEXT, "__libc_start_main");
    if (!next) die("cannot find __libc_start_main");
    real_main = main;
    return next(server_main, argc, argv, init, fini, rtld_fini, stack_end);
}
