"""wdbench's Hydra launchers. Hydra instantiates a launcher only from a module under the
`hydra_plugins` namespace package, which this directory joins (it has no __init__.py above it)."""
