#include "slicefs/guarded_access.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* Where the innermost guarded_run() of this thread resumes after a fault;
 * NULL outside guarded calls. Only this thread and its signal handler use it. */
static _Thread_local sigjmp_buf *volatile guard_resume;

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
    (void)context;
    sigjmp_buf *resume = guard_resume;
    /* si_code > 0: the kernel raised it for a memory access. One sent with
     * kill() or raise() says nothing about the guarded access. */
    if (resume != NULL && info->si_code > 0)
        siglongjmp(*resume, 1);
    /* Not a guarded access: a real bug. Die of it now, as without us. */
    signal(sig, SIG_DFL);
    raise(sig);
}

int guarded_access_init(struct sfs_error *err)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    /* SA_NODEFER keeps SIGBUS unblocked inside the handler, so leaving it
     * with siglongjmp needs no saved signal mask (sigsetjmp(.., 0) costs no
     * system call on the I/O path). */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) < 0)
        return sfs_error_set(err, "cannot install the SIGBUS handler: %s", strerror(errno));
    return 0;
}

int guarded_run(int (*fn)(void *arg), void *arg)
{
    sigjmp_buf resume;
    sigjmp_buf *volatile outer = guard_resume;

    if (sigsetjmp(resume, 0) != 0) {
        atomic_signal_fence(memory_order_seq_cst);
        guard_resume = outer;
        return -EIO;
    }
    guard_resume = &resume;
    /* The handler runs on this thread: a compiler fence is all it takes to
     * keep every access of fn after the store above and before the one
     * below (no CPU fence is needed within one thread). */
    atomic_signal_fence(memory_order_seq_cst);
    int res = fn(arg);
    atomic_signal_fence(memory_order_seq_cst);
    guard_resume = outer;
    return res;
}

struct copy_args {
    void *dst;
    const void *src;
    size_t len;
};

static int do_copy(void *arg)
{
    struct copy_args *a = arg;
    memmove(a->dst, a->src, a->len); /* the ranges may overlap (one file) */
    return 0;
}

static int do_zero(void *arg)
{
    struct copy_args *a = arg;
    memset(a->dst, 0, a->len);
    return 0;
}

int guarded_copy(void *dst, const void *src, size_t len)
{
    struct copy_args a = {dst, src, len};
    return guarded_run(do_copy, &a);
}

int guarded_zero(void *dst, size_t len)
{
    struct copy_args a = {dst, NULL, len};
    return guarded_run(do_zero, &a);
}
