"""What runs inside the new namespaces: the standard init and the setns (exec) init."""
