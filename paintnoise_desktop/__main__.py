"""`python -m paintnoise_desktop` does what the `paintnoise` command does."""

from paintnoise_desktop.app import main

main()
