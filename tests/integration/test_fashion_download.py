"""Fashion-MNIST's last two places: `~/.cache/wdbench` and torchvision's download. A local
HTTP server on 127.0.0.1 stands in for the download host (torchvision's own mirror list and
checksums point at it); HOME is a temporary folder; Debian's copy is hidden. All in a child
process, so HOME decides `~` as it does for a user."""

import json
import os
import subprocess
import sys

from tests.helpers.fashion import write_fake_fashion
from tests.helpers.runs import REPO

CHILD = """
import functools, hashlib, http.server, json, sys, threading
from pathlib import Path
import torchvision
from wdbench.data import fashion_mnist

served, root = Path(sys.argv[1]), sys.argv[2]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
host = torchvision.datasets.FashionMNIST
host.mirrors = [f"http://127.0.0.1:{server.server_port}/"]
host.resources = [(name, hashlib.md5((served / name).read_bytes()).hexdigest())
                  for name, _ in host.resources]
fashion_mnist.DEBIAN_DIR = Path(sys.argv[3])  # no system copy
found = {}
found["into_root"] = fashion_mnist.locate(root, download=True)
found["into_cache"] = fashion_mnist.locate(None, download=True)
server.shutdown()  # the host is gone: the cache alone must serve now
found["from_cache"] = fashion_mnist.locate(None, download=False)
shapes = {k: list(v.shape) for k, v in fashion_mnist.load_raw(None).items()}
print(json.dumps({"found": {k: {f: str(p) for f, p in v.items()} for k, v in found.items()},
                  "shapes": shapes, "cache": str(fashion_mnist.DOWNLOAD_DIR)}))
"""


def test_download_into_root_and_cache_then_cache_lookup(tmp_path):
    served, root, home = tmp_path / "host", tmp_path / "root", tmp_path / "home"
    write_fake_fashion(served, gz=True)
    root.mkdir()
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", CHILD, str(served), str(root),
                             str(tmp_path / "no-debian")], env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    cache = home / ".cache" / "wdbench"
    assert out["cache"] == str(cache)
    for where, base in (("into_root", root), ("into_cache", cache), ("from_cache", cache)):
        paths = out["found"][where].values()
        assert all(p.startswith(str(base / "FashionMNIST" / "raw")) for p in paths), (where, paths)
    assert out["shapes"]["train_images"] == [60000, 28, 28]
    assert out["shapes"]["test_labels"] == [10000]
