"""The names of a site's files and folders, stated once."""
from __future__ import annotations

import os
import stat

CONFIG_FILE = "site.yaml"
CONTENT_DIR = "content"
THEMES_DIR = "themes"
STATIC_DIR = "static"         # files copied to the output root as they are (Hugo's convention)
OUTPUT_DIR = "_site"          # the default output folder
CACHE_DIR = ".ssg-cache"


def unsafe_entry(path: str, root: str) -> str | None:
    """Why a file or folder found inside `root` (the site folder) must not be read, or None if it may.

    Git stores symbolic links, so a contributor can add one that points at /etc/passwd or at a CI
    secret in /proc/self/environ: a link may only point inside the site. Special files (FIFOs, devices,
    sockets) are never read: reading a FIFO blocks for ever and a device may never end."""
    try:
        if os.path.islink(path):
            target = os.path.realpath(path)
            if os.path.commonpath([target, root]) != root:
                return "is a symbolic link to something outside the site folder; only links inside it are followed"
        mode = os.stat(path).st_mode
    except (OSError, ValueError) as exc:
        return f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "is not a regular file (a FIFO, device or socket); only files are read"
    if not os.access(path, os.R_OK | (os.X_OK if stat.S_ISDIR(mode) else 0)):
        return "cannot be read (permission denied)"
    return None
