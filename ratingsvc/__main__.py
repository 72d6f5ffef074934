"""`python -m ratingsvc ...` is the `ratingsvc` command."""

from .cli import main

main()
