"""The lifecycle core: everything that runs in the caller, shared by the library and the CLI.

Status, signals, pause/resume, exec.fifo release, destroy and the container's lock live here
once. :class:`libcontainer.Container` and the ``pyrunc`` command line both use them; the
modules behind the verbs engines call most (state, kill, start, pause, resume, delete)
import nothing heavy (no attrs, cattrs or config models), so a CLI process pays only for
the interpreter. :mod:`~libcontainer.lifecycle.launch` (starting processes) is the heavy
part and is imported only where a process is started.

What runs *inside* the new namespaces lives in :mod:`libcontainer.init`.
"""
