"""Settings, from conf/ to checked values and built objects: compose, validate, build."""
