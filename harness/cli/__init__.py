"""The `bench` command line: one small module per command, each exposing `command`."""
