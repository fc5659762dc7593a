"""One module per command: its options, messages and exit codes; the work is in the rooms."""
