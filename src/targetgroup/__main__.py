"""`python -m targetgroup` is the same as the `targetgroup` command."""

from targetgroup.cli import entry

entry()
