"""`python -m ssg`: the same commands as the `ssg` script."""
from .cli import console

console()
