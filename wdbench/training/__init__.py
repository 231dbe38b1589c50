"""One run: assemble its parts, train and test with Lightning, resume, stop on a signal, DDP."""
