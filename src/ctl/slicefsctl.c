/* slicefsctl.c - the runtime control client: checks a command's arguments,
 * finds the mount's control socket, sends the command and prints the reply
 * (the protocol: include/slicefs/control_protocol.h).
 *
 * Exit status: the daemon's (0 done, 1 refused, 2 failed); 1 for a command
 * line refused here (nothing is sent); 2 when there is no mount to talk to
 * or no answer from it.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "slicefs/control_protocol.h"

#define DEFAULT_TIMEOUT_MS 60000L

struct command {
    const char *name;
    int min_args, max_args; /* words after the name (add: --backing FILE aside) */
    const char *usage;      /* the words, for usage lines */
    const char *help;       /* one line for --help */
};

static const struct command commands[] = {
    {"list", 0, 0, "", "print the live windows as a window table\n(as slicefs --list)"},
    {"add", 1, 2, " SPEC [BACKING]",
     "add a window (SPEC as in -o window=:\nPATH:OFFSET:LENGTH[:MODE]) of BACKING, else\n"
     "of the mount's backing file"},
    {"remove", 1, 1, " PATH", "remove the window PATH at once; open\nhandles work until closed"},
    {"resize", 2, 2, " PATH LENGTH", "change the length of the window PATH"},
    {"reload", 0, 0, "", "re-read the window sources given at mount\nand apply the difference"},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])
#define ADD_BACKING_USAGE " --backing BACKING SPEC"

void ctl_warn(const char *fmt, ...)
{
    va_list ap;
    fputs("slicefsctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void print_usage(FILE *out)
{
    fprintf(out, "usage: slicefsctl [--help] [--version] MOUNTPOINT COMMAND [ARGS]\n"
                 "commands:");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "%s %s%s", i > 0 ? "," : "", commands[i].name, commands[i].usage);
    fprintf(out, " (see slicefsctl --help)\n");
}

static void print_command_usage(const struct command *cmd)
{
    fprintf(stderr, "usage: slicefsctl MOUNTPOINT %s%s\n", cmd->name, cmd->usage);
    if (strcmp(cmd->name, "add") == 0)
        fprintf(stderr, "       slicefsctl MOUNTPOINT add" ADD_BACKING_USAGE "\n");
}

/* One command's line(s) in --help: its words, then what it does (a help
 * text of several lines is indented under the first). */
static void print_command_help(const char *words, const char *help)
{
    printf("    %-26s ", words);
    for (const char *p = help; *p != '\0'; p++) {
        putchar(*p);
        if (*p == '\n')
            printf("%31s", "");
    }
    putchar('\n');
}

static void print_help(void)
{
    char words[64];
    printf("usage: slicefsctl [--help] [--version] MOUNTPOINT COMMAND [ARGS]\n"
           "\n"
           "Changes the windows of a live slicefs mount.\n"
           "\n"
           "Commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        snprintf(words, sizeof words, "%s%s", commands[i].name, commands[i].usage);
        print_command_help(words, commands[i].help);
        if (strcmp(commands[i].name, "add") == 0)
            print_command_help("add" ADD_BACKING_USAGE, "the same");
    }
    printf("Each command is checked like the same input at mount time and is done whole or\n"
           "not at all. Only the user who mounted, or root, may use them. A relative\n"
           "BACKING is taken from the current folder.\n"
           "\n"
           "Options:\n"
           "    -h   --help              print this help\n"
           "    -V   --version           print the version\n"
           "\n"
           "Exit status: 0 done; 1 refused (a bad command line, bad input, not allowed:\n"
           "nothing changed); 2 failed (not a slicefs mount, no daemon answering, or the\n"
           "daemon could not do it: nothing changed).\n"
           "\n"
           "The control socket is the one the mount shows in its attribute\n"
           "user.slicefs.control; where that cannot be read, the socket named after the\n"
           "mount point's path in $XDG_RUNTIME_DIR/slicefs, /run/slicefs,\n"
           "/run/user/UID/slicefs or ${TMPDIR:-/tmp}/slicefs-UID.\n"
           "SLICEFSCTL_TIMEOUT: seconds to wait for the reply (default 60).\n");
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Sorts the words after the command's name into its arguments (appended
 * to args at *count) and, for add, the BACKING (--backing FILE, or the
 * word after SPEC) in *backing. Words starting with '-' are options until
 * "--". Returns 0, or -1 having said why and shown the usage. */
static int command_args(const struct command *cmd, int argc, char *argv[], const char **args,
                        int *count, const char **backing)
{
    bool is_add = strcmp(cmd->name, "add") == 0, options = true;
    int given = 0;
    *backing = NULL;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (options && strcmp(w, "--") == 0) {
            options = false;
        } else if (options && is_add && strncmp(w, "--backing", 9) == 0 &&
                   (w[9] == '\0' || w[9] == '=')) {
            const char *file = w[9] == '=' ? w + 10 : i + 1 < argc ? argv[++i] : "";
            if (*file == '\0' || *backing != NULL) {
                ctl_warn(*file == '\0' ? "add: --backing needs a FILE" : "add: --backing twice");
                print_command_usage(cmd);
                return -1;
            }
            *backing = file;
        } else if (options && w[0] == '-' && w[1] != '\0') {
            ctl_warn("%s: unknown option '%s' (a word starting with '-' goes after --)", cmd->name,
                     w);
            print_command_usage(cmd);
            return -1;
        } else {
            if (given < cmd->max_args)
                args[*count + given] = w;
            given++;
        }
    }
    int max = *backing != NULL ? cmd->max_args - 1 : cmd->max_args;
    if (given < cmd->min_args || given > max) {
        if (*cmd->usage == '\0')
            ctl_warn("%s takes no arguments", cmd->name);
        else
            ctl_warn("%s takes%s, not %d argument%s%s", cmd->name, cmd->usage, given,
                     given == 1 ? "" : "s", *backing != NULL ? " and --backing" : "");
        print_command_usage(cmd);
        return -1;
    }
    if (!is_add) {
        *count += given;
        return 0;
    }
    if (given == 2)
        *backing = args[*count + 1];
    *count += 1; /* SPEC; BACKING follows once made absolute */
    return 0;
}

/* The deadline for the whole exchange, from SLICEFSCTL_TIMEOUT (seconds,
 * a decimal number above 0). Returns milliseconds, or -1 (said). */
static long timeout_ms(void)
{
    const char *text = getenv("SLICEFSCTL_TIMEOUT");
    if (text == NULL || *text == '\0')
        return DEFAULT_TIMEOUT_MS;
    char *end;
    errno = 0;
    double seconds = strtod(text, &end);
    if (errno != 0 || *end != '\0' || !(seconds > 0 && seconds <= 1e6)) {
        ctl_warn("SLICEFSCTL_TIMEOUT='%s' is not a number of seconds (above 0, at most 1e6)", text);
        return -1;
    }
    long ms = (long)(seconds * 1000 + 0.5);
    return ms > 0 ? ms : 1;
}

/* Prints the body of a reply: to stdout when the command was done, else
 * each of its lines to stderr as a message. Returns the exit status. */
static int print_reply(const struct ctl_reply *reply)
{
    const char *body = reply->data + reply->body;
    size_t len = reply->len - reply->body;
    if (reply->status == CONTROL_DONE) {
        if (fwrite(body, 1, len, stdout) != len || fflush(stdout) != 0) {
            ctl_warn("writing the output: %s", strerror(errno));
            return CONTROL_FAILED;
        }
        return CONTROL_DONE;
    }
    if (len == 0)
        ctl_warn("the daemon %s without saying why (status %d)",
                 reply->status == CONTROL_REFUSED ? "refused" : "failed", reply->status);
    while (len > 0) {
        const char *newline = memchr(body, '\n', len);
        size_t n = newline != NULL ? (size_t)(newline - body) : len;
        ctl_warn("%.*s", (int)n, body);
        n += newline != NULL;
        body += n;
        len -= n;
    }
    return reply->status;
}

int main(int argc, char *argv[])
{
    signal(SIGPIPE, SIG_IGN);
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_help();
            return fflush(stdout) == 0 ? 0 : CONTROL_FAILED;
        } else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
            printf("slicefsctl %s\n", SLICEFS_VERSION);
            return fflush(stdout) == 0 ? 0 : CONTROL_FAILED;
        }
        ctl_warn("unknown option '%s'", argv[i]);
        print_usage(stderr);
        return CONTROL_REFUSED;
    }
    if (argc - i < 2) {
        ctl_warn(argc - i == 0 ? "missing MOUNTPOINT and COMMAND" : "missing COMMAND");
        print_usage(stderr);
        return CONTROL_REFUSED;
    }
    const char *mountpoint = argv[i];
    const struct command *cmd = find_command(argv[i + 1]);
    if (cmd == NULL) {
        ctl_warn("unknown command '%s'", argv[i + 1]);
        print_usage(stderr);
        return CONTROL_REFUSED;
    }

    const char *args[CONTROL_MAX_ARGS] = {cmd->name};
    int count = 1;
    const char *backing_arg;
    if (command_args(cmd, argc - i - 2, argv + i + 2, args, &count, &backing_arg) < 0)
        return CONTROL_REFUSED;
    char *backing = NULL;
    if (backing_arg != NULL) {
        /* The daemon has another cwd: BACKING goes absolute, and a missing
         * one is said here, in the user's words. */
        backing = realpath(backing_arg, NULL);
        if (backing == NULL) {
            ctl_warn("%s: %s", backing_arg, strerror(errno));
            return CONTROL_REFUSED;
        }
        args[count++] = backing;
    }
    long timeout = timeout_ms();
    static char request[CONTROL_REQUEST_MAX];
    struct sfs_error err = {{0}};
    int len = -1;
    if (timeout >= 0) {
        len = control_request_join(args, count, request, sizeof request, &err);
        if (len < 0)
            ctl_warn("%s", err.msg);
    }
    free(backing);
    if (len < 0)
        return CONTROL_REFUSED;

    char *socket_path = ctl_find_socket(mountpoint);
    if (socket_path == NULL)
        return CONTROL_FAILED;
    struct ctl_reply reply;
    int status = CONTROL_FAILED;
    if (ctl_exchange(socket_path, request, (size_t)len, timeout, &reply) == 0) {
        status = print_reply(&reply);
        free(reply.data);
    }
    free(socket_path);
    return status;
}
