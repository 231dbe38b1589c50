"""The config loader a sweep composes its jobs with (wdbench/sweep/compose_once.py): a config
the sweeper's check composed goes to the launcher once, and only inside a launch."""

from wdbench.sweep.compose_once import ComposedOnce


class Loader:
    """A config loader that makes a new object at each composition, and counts them. Its
    overrides pick config groups (`a`, `b`), so that no job's config is derived from another's
    (tests/integration/test_compose_once.py derives them)."""

    def __init__(self):
        self.composed = 0
        self.other = "the loader's own attribute"

    def list_groups(self, parent_name):
        return ["a", "b"] if parent_name == "" else []

    def load_sweep_config(self, master_config, sweep_overrides):
        self.composed += 1
        return {"overrides": list(sweep_overrides), "number": self.composed}


def test_a_checked_config_is_handed_out_once_and_only_inside_a_launch():
    loader = ComposedOnce(Loader())
    master = object()
    checked = loader.load_sweep_config(master, ["a=1"])  # the sweeper's check
    duplicate = loader.load_sweep_config(master, ["a=1"])  # the same job twice in a batch
    with loader.launching():
        assert loader.load_sweep_config(master, ["a=1"]) is checked
        assert loader.load_sweep_config(master, ["a=1"]) is duplicate
        again = loader.load_sweep_config(master, ["a=1"])  # none kept: composed anew
        assert again["number"] == 3
        assert loader.load_sweep_config(master, ["b=2"])["number"] == 4  # never checked
    assert loader.loader.composed == 4 and not loader.kept
    # outside a launch a call composes, so a check never gets a config a launcher had
    assert loader.load_sweep_config(master, ["a=1"])["number"] == 5
    assert loader.load_sweep_config(object(), ["a=1"])["number"] == 6  # another master config
    assert loader.other == "the loader's own attribute"


def test_beyond_its_limit_a_job_is_composed_again_at_launch():
    """A sweep of many jobs keeps at most `keep_at_most` configs; the others compose twice."""
    loader = ComposedOnce(Loader(), keep_at_most=2)
    master = object()
    checked = [loader.load_sweep_config(master, [f"a={i}"]) for i in range(3)]
    with loader.launching():
        launched = [loader.load_sweep_config(master, [f"a={i}"]) for i in range(3)]
    assert launched[:2] == checked[:2] and launched[2] is not checked[2]
    assert loader.loader.composed == 4
