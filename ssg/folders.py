"""The names of a site's files and folders, stated once."""
from __future__ import annotations

CONFIG_FILE = "site.yaml"
CONTENT_DIR = "content"
THEMES_DIR = "themes"
OUTPUT_DIR = "_site"          # the default output folder
CACHE_DIR = ".ssg-cache"
