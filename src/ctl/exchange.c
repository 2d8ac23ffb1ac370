/* exchange.c - one request and its reply over a control socket (ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "slicefs/control_protocol.h"

/* A longer reply is no daemon's (listing a million windows takes ~100 MiB). */
#define CTL_REPLY_MAX ((size_t)1 << 30)

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fills addr for the absolute path. A path too long for sun_path is
 * reached through /proc/self/fd/DIR/NAME, its folder opened as *dir_fd
 * (close it once connected; else it is -1). Returns 0, or -1 with errno. */
static int socket_address(const char *path, struct sockaddr_un *addr, int *dir_fd)
{
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    *dir_fd = -1;
    size_t len = strlen(path);
    if (len < sizeof addr->sun_path) {
        memcpy(addr->sun_path, path, len + 1);
        return 0;
    }
    const char *slash = strrchr(path, '/');
    char *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (dir == NULL)
        return -1;
    *dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (*dir_fd < 0)
        return -1;
    int n =
        snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", *dir_fd, slash + 1);
    if (n < 0 || (size_t)n >= sizeof addr->sun_path) {
        close(*dir_fd);
        *dir_fd = -1;
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Connects fd to addr; a daemon whose queue of connections is full is
 * waited for until deadline (connect honours SO_SNDTIMEO on a Unix
 * socket). Returns 0, or -1 with errno (ETIMEDOUT at the deadline). */
static int connect_until(int fd, const struct sockaddr_un *addr, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
            return -1;
        if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0 || errno == EISCONN)
            return 0;
        if (errno == EAGAIN || errno == EINPROGRESS)
            errno = ETIMEDOUT;
        if (errno != EINTR)
            return -1;
    }
}

/* Waits until fd is ready for events, at most until deadline. Returns 0,
 * or -1 with errno (ETIMEDOUT at the deadline). */
static int wait_ready(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* Sends all len bytes of buf on the non-blocking fd. Returns 0, or -1 with
 * errno. */
static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno != EAGAIN) {
            return -1;
        } else if (wait_ready(fd, POLLOUT, deadline) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Reads from the non-blocking fd until the daemon closes the connection,
 * appending to r->data. Returns 0, or -1 with errno. */
static int receive_all(int fd, struct ctl_reply *r, long long deadline)
{
    size_t capacity = 0;
    for (;;) {
        if (r->len == capacity) {
            if (capacity == CTL_REPLY_MAX) {
                errno = EMSGSIZE;
                return -1;
            }
            capacity = capacity == 0 ? 4096 : capacity * 2;
            char *bigger = realloc(r->data, capacity);
            if (bigger == NULL)
                return -1;
            r->data = bigger;
        }
        ssize_t n = recv(fd, r->data + r->len, capacity - r->len, 0);
        if (n > 0)
            r->len += (size_t)n;
        else if (n == 0)
            return 0;
        else if (errno == EINTR)
            continue;
        else if (errno != EAGAIN)
            return -1;
        else if (wait_ready(fd, POLLIN, deadline) < 0)
            return -1;
    }
}

/* What a failed connect means to the user. */
static const char *connect_hint(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return " (no daemon answers there: did it die?)";
    case EACCES:
    case EPERM:
        return " (only the user who mounted, or root, may control a mount)";
    default:
        return "";
    }
}

int ctl_exchange(const char *path, const char *request, size_t len, long timeout_ms,
                 struct ctl_reply *reply)
{
    long long deadline = now_ms() + timeout_ms;
    struct sockaddr_un addr;
    int dir_fd = -1, send_errno = 0;
    struct sfs_error err = {{0}};
    memset(reply, 0, sizeof *reply);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ctl_warn("socket: %s", strerror(errno));
        return -1;
    }
    if (socket_address(path, &addr, &dir_fd) < 0 || connect_until(fd, &addr, deadline) < 0) {
        int e = errno;
        ctl_warn("cannot connect to %s: %s%s", path, strerror(e), connect_hint(e));
        goto fail;
    }
    if (dir_fd >= 0)
        close(dir_fd);
    dir_fd = -1;
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
        ctl_warn("%s: %s", path, strerror(errno));
        goto fail;
    }
    /* A daemon that refuses a request before reading it all may close at
     * once: its reply is still worth reading, so a failed send is only
     * reported when no reply comes. */
    if (send_all(fd, request, len, deadline) < 0 || shutdown(fd, SHUT_WR) < 0)
        send_errno = errno;
    if (send_errno == ETIMEDOUT || receive_all(fd, reply, deadline) < 0) {
        int e = send_errno != 0 ? send_errno : errno;
        if (e == ETIMEDOUT)
            ctl_warn("no reply from %s within %ld.%03ld s (SLICEFSCTL_TIMEOUT)", path,
                     timeout_ms / 1000, timeout_ms % 1000);
        else
            ctl_warn("%s %s: %s", send_errno != 0 ? "sending to" : "reading the reply from", path,
                     strerror(e));
        goto fail;
    }
    long body = control_reply_parse(reply->data, reply->len, &reply->status, &err);
    if (body < 0) {
        if (send_errno != 0)
            ctl_warn("sending to %s: %s", path, strerror(send_errno));
        else
            ctl_warn("bad reply from %s: %s", path, err.msg);
        goto fail;
    }
    reply->body = (size_t)body;
    close(fd);
    return 0;

fail:
    if (dir_fd >= 0)
        close(dir_fd);
    close(fd);
    free(reply->data);
    memset(reply, 0, sizeof *reply);
    return -1;
}
