"""pyrunc: a runc-compatible command line on top of libcontainer (``python -m pyrunc``).

Same commands, flags, exit codes and output formats as runc 1.1, so container engines that
drive runc (containerd's shim, podman through conmon) can drive it. Importing this package
imports nothing else: every command loads only what it needs.
"""

__version__ = "0.1.0"
#: The OCI runtime-spec version reported, as runc 1.1 reports it.
SPEC_VERSION = "1.0.2-dev"
