/* A small QMP client for run.sh and the nested harness (built static, so it
 * runs in the harness's busybox system too):
 *
 *   qmp [-t SECONDS] SOCKET COMMAND...
 *   qmp -now          (prints the monotonic clock in ms, for timing in sh)
 *
 * Connects to QEMU's QMP unix socket (retrying until QEMU listens), leaves
 * capabilities negotiation, and runs each COMMAND in turn: a JSON object
 * sent as is, "wait-migration", which polls query-migrate until the
 * migration completes, or "wait-switchover", until a migration with the
 * pause-before-switchover capability holds before it. Prints each reply's line; exits 0 when every command
 * returned, 1 on a QMP error or a failed migration, 2 when QEMU cannot be
 * reached or talks nonsense, 64 on bad usage. The timeout bounds the whole
 * run. Replies are untrusted: lines are bounded, and only the reply's first
 * key is looked at. */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 65536
#define POLL_MS 50

static int fd = -1;
static char buf[LINE_MAX_BYTES];
static size_t have;
static double deadline;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(int code, const char *fmt, const char *arg)
{
    fprintf(stderr, "qmp: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(code);
}

static void connect_socket(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        die(64, "socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    for (;;) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            die(2, "socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return;
        close(fd);
        if (now_s() > deadline)
            die(2, "cannot connect to %s before the timeout", path);
        usleep(POLL_MS * 1000);
    }
}

/* The next line from QEMU, NUL-terminated in line (without the newline). */
static void read_line(char *line)
{
    for (;;) {
        char *nl = memchr(buf, '\n', have);
        if (nl) {
            size_t n = (size_t)(nl - buf);
            memcpy(line, buf, n);
            line[n] = '\0';
            memmove(buf, nl + 1, have - n - 1);
            have -= n + 1;
            return;
        }
        if (have == sizeof(buf))
            die(2, "a reply line longer than %s bytes", "65536");
        int left_ms = (int)((deadline - now_s()) * 1000);
        if (left_ms <= 0)
            die(2, "no reply before the timeout%s", "");
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, left_ms) <= 0)
            die(2, "no reply before the timeout%s", "");
        ssize_t r = read(fd, buf + have, sizeof(buf) - have);
        if (r <= 0)
            die(2, "QEMU closed the connection%s", "");
        have += (size_t)r;
    }
}

/* The reply's first key: "return", "error", "event" (a timestamped event),
 * "QMP" (the greeting), or "" for anything else. */
static const char *kind(const char *line)
{
    static const char *const keys[] = { "return", "error", "QMP", "timestamp" };
    const char *p = line;
    while (*p == ' ')
        p++;
    if (*p++ != '{')
        return "";
    while (*p == ' ')
        p++;
    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        size_t n = strlen(keys[i]);
        if (p[0] == '"' && strncmp(p + 1, keys[i], n) == 0 && p[n + 1] == '"')
            return i == 3 ? "event" : keys[i];
    }
    return "";
}

/* One write, the newline included: QEMU acts on a command at its closing
 * brace, and a quit closes the socket, so a newline written after it would
 * meet a closed connection (EPIPE) whenever the client was preempted
 * between two writes. */
static void send_line(const char *cmd)
{
    static char out[LINE_MAX_BYTES];
    size_t n = strlen(cmd);
    if (n + 1 > sizeof(out))
        die(64, "a command longer than %s bytes", "65535");
    memcpy(out, cmd, n);
    out[n++] = '\n';
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, out + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die(2, "cannot write to QEMU: %s", strerror(errno));
        off += (size_t)w;
    }
}

/* Sends cmd; the reply (events skipped) into line; whether it returned. */
static int execute(const char *cmd, char *line)
{
    send_line(cmd);
    for (;;) {
        read_line(line);
        const char *k = kind(line);
        if (strcmp(k, "return") == 0)
            return 1;
        if (strcmp(k, "error") == 0)
            return 0;
        if (strcmp(k, "event") != 0)
            die(2, "unexpected line from QEMU: %.200s", line);
    }
}

static const char *status_of(const char *line)
{
    static char status[32];
    const char *p = strstr(line, "\"status\": \"");
    if (!p)
        return "";
    p += strlen("\"status\": \"");
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < sizeof(status))
        n++;
    memcpy(status, p, n);
    status[n] = '\0';
    return status;
}

static int wait_migration(char *line, const char *until)
{
    for (;;) {
        if (!execute("{\"execute\": \"query-migrate\"}", line))
            return fprintf(stderr, "qmp: query-migrate: %s\n", line), 1;
        const char *s = status_of(line);
        if (strcmp(s, until) == 0)
            return puts(line), 0;
        if (strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0)
            return fprintf(stderr, "qmp: migration %s: %s\n", s, line), 1;
        if (now_s() > deadline) {
            fprintf(stderr, "qmp: migration not %s before the timeout (last: %.200s)\n", until,
                    line);
            exit(2);
        }
        usleep(POLL_MS * 1000);
    }
}

int main(int argc, char **argv)
{
    double timeout = 60;
    int i = 1;
    if (argc == 2 && strcmp(argv[1], "-now") == 0)
        return printf("%.0f\n", now_s() * 1000), 0;
    if (i + 1 < argc && strcmp(argv[i], "-t") == 0) {
        char *end;
        timeout = strtod(argv[i + 1], &end);
        if (*end || !(timeout > 0 && timeout <= 86400))
            die(64, "-t wants seconds from 0 to 86400, not '%s'", argv[i + 1]);
        i += 2;
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: qmp [-t SECONDS] SOCKET COMMAND...\n");
        return 64;
    }
    deadline = now_s() + timeout;
    /* A QEMU that went away is an error to report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    static char line[LINE_MAX_BYTES];
    connect_socket(argv[i++]);
    read_line(line);
    if (strcmp(kind(line), "QMP") != 0)
        die(2, "no QMP greeting: %.200s", line);
    if (!execute("{\"execute\": \"qmp_capabilities\"}", line))
        die(2, "qmp_capabilities refused: %.200s", line);
    for (; i < argc; i++) {
        bool wait = strcmp(argv[i], "wait-migration") == 0 ||
                    strcmp(argv[i], "wait-switchover") == 0;
        int rc = wait ? !wait_migration(line, argv[i][5] == 'm' ? "completed" : "pre-switchover")
                      : execute(argv[i], line);
        if (wait) {
            if (!rc)
                return 1;
            continue;
        }
        if (!rc) {
            fprintf(stderr, "qmp: %s: %s\n", argv[i], line);
            return 1;
        }
        puts(line);
    }
    return 0;
}
