/*
 * The C half of libcontainer: the namespace dance of runc's nsexec.c and the few system
 * calls Python 3.11 lacks. No policy lives here; the Python side decides what to do and
 * this file only does what a Python process cannot do for itself (clone with
 * CLONE_PARENT, enter namespaces between two clones, raw mount(2) and friends).
 *
 * This header is also the cffi cdef: keep it free of preprocessor directives.
 */

/* Messages stage-1 (C, between the clones) sends to stage-0 (the Python spawner). */
enum {
    NSENTER_MSG_USERMAP = 1,  /* "I have unshared a user namespace: write my maps" */
    NSENTER_MSG_CHILD = 2,    /* value = host pid of stage-2, the final process */
    NSENTER_MSG_ERROR = 3,    /* value = errno, text = what failed */
    NSENTER_MSG_USERMAP_ACK = 4, /* stage-0 -> stage-1: maps written, go on */
};

struct nsenter_msg {
    int type;
    int value;
    char text[200];
};

struct nsenter_config {
    int sync_fd;                      /* SOCK_SEQPACKET to stage-0, inherited by stage-1 only */
    int clone_flags;                  /* namespaces to unshare (CLONE_NEWCGROUP excluded) */
    int join_fds[8];                  /* namespace files to setns() into */
    int join_types[8];                /* CLONE_NEW* of each join fd (0: let the kernel check) */
    int join_count;
    int become_root;                  /* setresuid/gid(0) after the user-namespace handshake */
    int log_fd;                       /* -1, or where stage-1 sends its debug lines (below) */
};

/*
 * Clone stage-1 as a sibling of the caller (CLONE_PARENT), which joins and unshares
 * namespaces, then clones stage-2 (again CLONE_PARENT, so the final process is a child of
 * our own parent, and PID 1 of a new PID namespace when one was unshared).
 *
 * With log_fd >= 0 stage-1 sends one datagram per step to it, the JSON of a libcontainer
 * sync "log" message ({"kind":"log","level":"debug","msg":"nsexec-1[PID]: ..."}), as
 * runc's nsexec writes its debug lines to its log pipe.
 *
 * Returns the pid of stage-1 in the caller (> 0), 0 in stage-2, -errno on failure.
 * Stage-1 never returns: it reports to sync_fd and exits.
 * Must be called from a single-threaded process.
 */
int nsenter_spawn(const struct nsenter_config *config);

/* Thin syscall wrappers: return -1 and set errno on failure, like libc. */
int nsenter_mount(const char *source, const char *target, const char *fstype,
                  unsigned long flags, const char *data);
int nsenter_umount2(const char *target, int flags);
int nsenter_pivot_root(const char *new_root, const char *put_old);
int nsenter_setns(int fd, int nstype);
int nsenter_unshare(int flags);
int nsenter_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
                  unsigned long arg5);
int nsenter_capget_version(void);
int nsenter_capset(unsigned int effective0, unsigned int effective1,
                   unsigned int permitted0, unsigned int permitted1,
                   unsigned int inheritable0, unsigned int inheritable1);
int nsenter_capget(int pid, unsigned int out[6]);
long nsenter_keyctl_join_session(const char *name);
long nsenter_keyctl_setperm(long key, unsigned int perm);
int nsenter_setdomainname(const char *name, unsigned long len);
int nsenter_personality(unsigned long persona);
int nsenter_mount_setattr(int dirfd, const char *path, unsigned int flags,
                          unsigned long long attr_set, unsigned long long attr_clr,
                          unsigned long long propagation);
int nsenter_open_tree(int dirfd, const char *path, unsigned int flags);
int nsenter_move_mount(int from_dirfd, const char *from_path, int to_dirfd,
                       const char *to_path, unsigned int flags);
int nsenter_openat2(int dirfd, const char *path, unsigned long long flags,
                    unsigned long long mode, unsigned long long resolve);
int nsenter_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                      unsigned int flags);
/*
 * Every signal to its default disposition and an empty blocked mask, through the raw
 * system calls: the C library refuses to touch the two real-time signals it reserves, and
 * an ignored one survives execve. Returns 0, or -1 with errno set.
 */
int nsenter_reset_signals(void);
/* seccomp(SECCOMP_SET_MODE_FILTER): returns the listener fd with NEW_LISTENER, else 0. */
int nsenter_seccomp_load(const char *program, unsigned int count, unsigned int flags);
