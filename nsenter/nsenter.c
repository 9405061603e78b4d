/*
 * The namespace dance (after runc's nsexec.c) and the syscalls Python 3.11 lacks.
 *
 * Process model (see libcontainer/spawner/server.py for the why):
 *
 *   caller (library user)                                    <- parent of every stage
 *     `- spawner: a warm, single-threaded Python helper      <- stage-0, calls nsenter_spawn()
 *     `- stage-1 (C only): setns(joins), unshare(USER), handshake, unshare(rest), clone
 *     `- stage-2 (Python again): the container's init or the exec'd process
 *
 * Both clones use CLONE_PARENT, so stage-1 and stage-2 are children of the caller: the
 * caller can waitpid() them like any subprocess, and none of them depends on the spawner
 * staying alive.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "nsenter.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

/* fork(2)-like clone: no new stack, the child resumes here on a copy of ours. */
static pid_t clone_parent(void)
{
    return (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
}

static void send_msg(int fd, int type, int value, const char *text)
{
    struct nsenter_msg msg;
    ssize_t n;

    memset(&msg, 0, sizeof(msg));
    msg.type = type;
    msg.value = value;
    if (text != NULL)
        snprintf(msg.text, sizeof(msg.text), "%s", text);
    do {
        n = send(fd, &msg, sizeof(msg), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
}

/*
 * A debug line of stage-1 for the parent (see nsenter.h): printf-style, short lines; what
 * does not fit is cut. Errors are ignored, as a debug line must never fail the start.
 */
static void __attribute__((format(printf, 2, 3))) log_debug(const struct nsenter_config *c,
                                                              const char *fmt, ...)
{
    char text[256], msg[600];
    size_t n = 0;
    va_list ap;

    if (c->log_fd < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    n = (size_t)snprintf(msg, sizeof(msg), "{\"kind\":\"log\",\"level\":\"debug\","
                                          "\"msg\":\"nsexec-1[%d]: ", (int)getpid());
    for (const char *p = text; *p && n < sizeof(msg) - 8; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\') {
            msg[n++] = '\\';
            msg[n++] = (char)ch;
        } else if (ch >= 0x20) {
            msg[n++] = (char)ch;
        }
    }
    memcpy(msg + n, "\"}", 2);
    n += 2;
    while (send(c->log_fd, msg, n, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

static const char *ns_name(int type)
{
    switch (type) {
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWUTS: return "uts";
    case CLONE_NEWNET: return "net";
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWNS: return "mnt";
    case CLONE_NEWUSER: return "user";
    case CLONE_NEWCGROUP: return "cgroup";
    default: return "unknown";
    }
}

/* Stage-1 failure: tell stage-0 what failed and with which errno, then die. */
static void __attribute__((noreturn)) bail(int fd, const char *what)
{
    int saved = errno;

    send_msg(fd, NSENTER_MSG_ERROR, saved, what);
    _exit(1);
}

static int wait_msg(int fd, int type)
{
    struct nsenter_msg msg;
    ssize_t n;

    do {
        n = recv(fd, &msg, sizeof(msg), 0);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(msg) || msg.type != type) {
        errno = n < 0 ? errno : EPROTO;
        return -1;
    }
    return 0;
}

static void join_namespaces(const struct nsenter_config *c)
{
    int user = -1;
    int retry[8];
    int nretry = 0;

    /*
     * Namespaces owned by the host's user namespace can only be joined before we enter
     * another user namespace, those owned by the joined one only after: try every
     * non-user namespace first, then the user namespace, then what failed with EPERM.
     */
    for (int i = 0; i < c->join_count && i < 8; i++) {
        if (c->join_types[i] == CLONE_NEWUSER) {
            user = i;
            continue;
        }
        log_debug(c, "setns(%#x) into %s namespace", c->join_types[i], ns_name(c->join_types[i]));
        if (setns(c->join_fds[i], c->join_types[i]) < 0) {
            if (errno != EPERM)
                bail(c->sync_fd, "setns");
            retry[nretry++] = i;
        }
    }
    if (user >= 0) {
        log_debug(c, "setns(%#x) into user namespace", CLONE_NEWUSER);
        if (setns(c->join_fds[user], CLONE_NEWUSER) < 0)
            bail(c->sync_fd, "setns user namespace");
    }
    for (int i = 0; i < nretry; i++) {
        log_debug(c, "setns(%#x) into %s namespace (after the user namespace)",
                  c->join_types[retry[i]], ns_name(c->join_types[retry[i]]));
        if (setns(c->join_fds[retry[i]], c->join_types[retry[i]]) < 0)
            bail(c->sync_fd, "setns");
    }
    for (int i = 0; i < c->join_count && i < 8; i++)
        close(c->join_fds[i]);
}

/* Runs in stage-1; returns only in stage-2, the child of its clone. */
static void stage1(const struct nsenter_config *c)
{
    pid_t child;
    int fd = c->sync_fd;
    int flags = c->clone_flags & ~(CLONE_NEWUSER | CLONE_NEWCGROUP);

    /*
     * Nothing that lives inside the container may ptrace us or open our /proc files
     * (CVE-2016-9962, CVE-2019-5736) while we hold host resources. execve() of the
     * user's program resets this.
     */
    log_debug(c, "~> nsexec stage-1");
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        bail(fd, "prctl(PR_SET_DUMPABLE)");

    join_namespaces(c);

    if (c->clone_flags & CLONE_NEWUSER) {
        log_debug(c, "unshare user namespace");
        if (unshare(CLONE_NEWUSER) < 0)
            bail(fd, "unshare user namespace");
        /*
         * The parent writes our maps through /proc/<us>: a non-dumpable process's files
         * belong to root, which an unprivileged parent is not (runc does the same).
         */
        log_debug(c, "temporarily set process as dumpable");
        if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
            bail(fd, "prctl(PR_SET_DUMPABLE)");
        log_debug(c, "request stage-0 to map user namespace");
        send_msg(fd, NSENTER_MSG_USERMAP, (int)getpid(), NULL);
        if (wait_msg(fd, NSENTER_MSG_USERMAP_ACK) < 0)
            bail(fd, "waiting for uid/gid maps");
        /* dumpable is reset by the uid change; the maps are written, set it again. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
            bail(fd, "prctl(PR_SET_DUMPABLE)");
    }
    if (c->become_root) {
        if (setresgid(0, 0, 0) < 0)
            bail(fd, "setresgid(0) in user namespace");
        if (setresuid(0, 0, 0) < 0)
            bail(fd, "setresuid(0) in user namespace");
    }
    log_debug(c, "unshare remaining namespaces (except cgroupns)");
    if (flags && unshare(flags) < 0)
        bail(fd, "unshare namespaces");

    log_debug(c, "spawn stage-2");
    child = clone_parent();
    if (child < 0)
        bail(fd, "clone stage-2");
    if (child == 0)
        return;
    log_debug(c, "request stage-0 to forward stage-2 pid (%d)", (int)child);
    send_msg(fd, NSENTER_MSG_CHILD, (int)child, NULL);
    log_debug(c, "<~ nsexec stage-1");
    _exit(0);
}

/*
 * Without user namespaces stage-1 shares our memory (CLONE_VM|CLONE_VFORK, on a stack of its
 * own, as posix_spawn does): one copy of the spawner's address space fewer per container.
 * Stage-2 is a full copy made by stage-1; it jumps back onto the main stack, where
 * nsenter_spawn's frame is intact in its copy, and returns to Python from there.
 * (Dumpability is per address space, so stage-1's PR_SET_DUMPABLE also applies to the
 * caller of nsenter_spawn: the spawner is non-dumpable anyway.)
 */
static sigjmp_buf stage2_resume;
static char stage1_stack[256 * 1024] __attribute__((aligned(64)));

static int stage1_shared(void *arg)
{
    stage1((const struct nsenter_config *)arg);
    /* Only stage-2, in its own copy of memory, gets here. */
    siglongjmp(stage2_resume, 1);
}

/* Entering or creating a user namespace needs an unshared mm, and the map handshake needs
 * stage-0 running (CLONE_VFORK would suspend it): those take the plain fork path. */
static int needs_own_mm(const struct nsenter_config *c)
{
    if (c->clone_flags & CLONE_NEWUSER)
        return 1;
    for (int i = 0; i < c->join_count && i < 8; i++)
        if (c->join_types[i] == CLONE_NEWUSER || c->join_types[i] == 0)
            return 1;
    return 0;
}

int nsenter_spawn(const struct nsenter_config *config)
{
    pid_t stage1_pid;
    PyGILState_STATE gil;
    sigset_t all, old;

    /*
     * cffi releases the GIL around this call; take it back so that the interpreter's
     * fork bookkeeping (locks, thread states, os.register_at_fork hooks) runs exactly as
     * in os.fork().
     */
    gil = PyGILState_Ensure();
    PyOS_BeforeFork();
    if (!needs_own_mm(config)) {
        /* Stage-1 runs on our memory: no signal handler may run in it. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (sigsetjmp(stage2_resume, 0) != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            goto stage2;
        }
        stage1_pid = clone(stage1_shared, stage1_stack + sizeof(stage1_stack),
                           CLONE_VM | CLONE_VFORK | CLONE_PARENT | SIGCHLD, (void *)config);
        int saved = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        PyOS_AfterFork_Parent();
        PyGILState_Release(gil);
        return stage1_pid < 0 ? -saved : (int)stage1_pid;
    }
    stage1_pid = clone_parent();
    if (stage1_pid < 0) {
        int saved = errno;
        PyOS_AfterFork_Parent();
        PyGILState_Release(gil);
        return -saved;
    }
    if (stage1_pid > 0) {
        PyOS_AfterFork_Parent();
        PyGILState_Release(gil);
        return (int)stage1_pid;
    }

    stage1(config);
stage2:
    /*
     * Stage-2 from here on. Stage-1 still has to report our pid and exit before stage-0
     * (blocked in vfork above) can answer the caller, who then lets us go on: when we
     * were placed on stage-1's CPU we would otherwise run our first millisecond of
     * Python (copy-on-write faults mostly) ahead of that whole chain, and only then wait
     * for it. Let stage-1 finish first.
     */
    sched_yield();
    close(config->sync_fd);
    PyOS_AfterFork_Child();
    PyGILState_Release(gil);
    return 0;
}

/* ---- Syscalls Python 3.11 lacks. Each returns -1 with errno set on failure. ---- */

int nsenter_mount(const char *source, const char *target, const char *fstype,
                  unsigned long flags, const char *data)
{
    return mount(source, target, fstype, flags, data);
}

int nsenter_umount2(const char *target, int flags)
{
    return umount2(target, flags);
}

int nsenter_pivot_root(const char *new_root, const char *put_old)
{
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int nsenter_setns(int fd, int nstype)
{
    return setns(fd, nstype);
}

int nsenter_unshare(int flags)
{
    return unshare(flags);
}

int nsenter_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
                  unsigned long arg5)
{
    return prctl(option, arg2, arg3, arg4, arg5);
}

int nsenter_capget(int pid, unsigned int out[6])
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, pid};
    struct __user_cap_data_struct data[2];

    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0)
        return -1;
    out[0] = data[0].effective;
    out[1] = data[1].effective;
    out[2] = data[0].permitted;
    out[3] = data[1].permitted;
    out[4] = data[0].inheritable;
    out[5] = data[1].inheritable;
    return 0;
}

int nsenter_capget_version(void)
{
    return _LINUX_CAPABILITY_VERSION_3;
}

int nsenter_capset(unsigned int effective0, unsigned int effective1,
                   unsigned int permitted0, unsigned int permitted1,
                   unsigned int inheritable0, unsigned int inheritable1)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];

    data[0].effective = effective0;
    data[1].effective = effective1;
    data[0].permitted = permitted0;
    data[1].permitted = permitted1;
    data[0].inheritable = inheritable0;
    data[1].inheritable = inheritable1;
    return (int)syscall(SYS_capset, &hdr, data);
}

#define KEYCTL_JOIN_SESSION_KEYRING 1
#define KEYCTL_SETPERM 5

long nsenter_keyctl_join_session(const char *name)
{
    return syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
}

long nsenter_keyctl_setperm(long key, unsigned int perm)
{
    return syscall(SYS_keyctl, KEYCTL_SETPERM, key, perm, 0, 0);
}

int nsenter_setdomainname(const char *name, unsigned long len)
{
    return setdomainname(name, len);
}

int nsenter_personality(unsigned long persona)
{
    return personality(persona);
}

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct nsenter_mount_attr {
    unsigned long long attr_set;
    unsigned long long attr_clr;
    unsigned long long propagation;
    unsigned long long userns_fd;
};

int nsenter_mount_setattr(int dirfd, const char *path, unsigned int flags,
                          unsigned long long attr_set, unsigned long long attr_clr,
                          unsigned long long propagation)
{
    struct nsenter_mount_attr attr = {attr_set, attr_clr, propagation, 0};

    return (int)syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr));
}

int nsenter_open_tree(int dirfd, const char *path, unsigned int flags)
{
    return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

int nsenter_move_mount(int from_dirfd, const char *from_path, int to_dirfd,
                       const char *to_path, unsigned int flags)
{
    return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

struct nsenter_open_how {
    unsigned long long flags;
    unsigned long long mode;
    unsigned long long resolve;
};

int nsenter_openat2(int dirfd, const char *path, unsigned long long flags,
                    unsigned long long mode, unsigned long long resolve)
{
    struct nsenter_open_how how = {flags, mode, resolve};

    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int nsenter_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                      unsigned int flags)
{
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

/* The kernel's struct sigaction (not the C library's), for rt_sigaction(2). */
struct nsenter_kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

int nsenter_reset_signals(void)
{
    struct nsenter_kernel_sigaction dfl;
    unsigned long empty = 0;
    int sig;

    memset(&dfl, 0, sizeof(dfl));
    dfl.handler = SIG_DFL;
    for (sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(unsigned long)) < 0 &&
            errno != EINVAL)
            return -1;
    }
    return (int)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof(empty));
}

#include <linux/filter.h>
#include <linux/seccomp.h>

int nsenter_seccomp_load(const char *program, unsigned int count, unsigned int flags)
{
    struct sock_fprog prog = {(unsigned short)count, (struct sock_filter *)program};

    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}
