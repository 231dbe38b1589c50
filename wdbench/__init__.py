"""wdbench: see what weight decay and its relatives do to a model."""
