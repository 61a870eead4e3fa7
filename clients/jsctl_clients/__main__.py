"""`python -m jsctl_clients` is the `jsctl` command."""

from .entry import main

main()
