"""The command line: one module per command (edit, mask, models, bench)."""
