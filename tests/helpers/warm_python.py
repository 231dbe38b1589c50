"""A stand-in for `python` that starts warm: a server imports wdbench, torch, Lightning, Hydra
and the report code once, then runs each command line it is sent in a fork of itself, with the
sender's stdin, stdout, stderr, working directory and environment, and hands back the exit
status. Each command is a process of its own that starts where a fresh `python` would be after
its imports, without their seconds. `warm_client.py` is the `python` a script is given.

    python tests/helpers/warm_python.py SOCKET     # serve until terminated
    WARM_PYTHON_SOCKET=SOCKET python tests/helpers/warm_client.py -m wdbench ARGS
"""

import atexit
import contextlib
import json
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

# What a wdbench sweep, scripts/report.py and the results scripts import first.
PRELOAD = ("wdbench.cli", "wdbench.report.build", "wdbench.report.plots", "pandas",
           "matplotlib.pyplot", "hydra_plugins.hydra_optuna_sweeper._impl",
           "hydra_plugins.hydra_joblib_launcher._core")
CLIENT = Path(__file__).with_name("warm_client.py")
START_TIMEOUT_S = 300  # the imports, on a loaded machine


def exit_code(code) -> int:
    """The status `sys.exit(code)` gives a process: a message is printed and means 1."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)
    return 1


def run_python(args: list[str]) -> int:
    """`python ARGS` in this process, for `-m MODULE ...` and `SCRIPT ...`: sys.argv and
    sys.path[0] as python sets them; anything else (an option) replaces the process with a
    real python. Returns the exit status."""
    if not args or (args[0].startswith("-") and args[0] != "-m"):
        os.execv(sys.executable, [sys.executable, *args])
    try:
        if args[:1] == ["-m"]:
            sys.argv[:] = [args[1], *args[2:]]
            sys.path[0] = os.getcwd()
            runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv[:] = args
            sys.path[0] = str(Path(args[0]).resolve().parent)
            runpy.run_path(args[0], run_name="__main__")
    except SystemExit as stop:
        return exit_code(stop.code)
    except BaseException as error:  # noqa: BLE001 - as python would: the traceback, status 1
        traceback.print_exception(type(error), error, own_frames(error.__traceback__))
        return 1
    return 0


def own_frames(frames):
    """A traceback from the command's first frame on: this file's and runpy's left out."""
    while frames and frames.tb_frame.f_code.co_filename in (__file__, runpy.__file__,
                                                             "<frozen runpy>"):
        frames = frames.tb_next
    return frames


def receive(conn: socket.socket) -> dict:
    """The sender's request: its three standard streams (as file descriptors), then JSON."""
    _, fds, _, _ = socket.recv_fds(conn, 1, 3)
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return {**json.loads(b"".join(chunks)), "fds": fds}


def become(request: dict) -> None:
    """This process takes the sender's streams, working directory and environment."""
    for target, fd in enumerate(request["fds"]):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])


def leave(code: int) -> None:
    """Exits as a process does at its end, in what shows outside it: the threads that are not
    daemons joined, the atexit functions run, the streams flushed; the interpreter's teardown
    of every module (seconds, with torch loaded) is left out."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve_one(conn: socket.socket) -> None:
    """In a fork of the server: run the request in a fork of this one, send its status."""
    request = receive(conn)
    pid = os.fork()
    if pid == 0:
        conn.close()
        become(request)
        leave(run_python(request["argv"]))
    for fd in request["fds"]:
        os.close(fd)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    conn.sendall(str(status if status >= 0 else 128 - status).encode())
    conn.close()
    os._exit(0)


def reap() -> None:
    """Collects finished request handlers, so that none stays a zombie."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def serve(path: str) -> None:
    for name in PRELOAD:
        __import__(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".part")
    listener.listen(16)
    os.rename(path + ".part", path)  # the socket appears once it accepts
    sys.stdout.flush()
    sys.stderr.flush()
    while True:
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            serve_one(conn)
        conn.close()
        reap()


@contextlib.contextmanager
def warm_python(folder: Path, env: dict[str, str]):
    """A server in `folder`, started with `env`, for as long as the block runs: yields the
    environment a script needs to use `python_command()` as its python."""
    path = folder / "python.sock"
    log = folder / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, __file__, str(path)], env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not path.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the warm python did not start: {log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield {**env, "WARM_PYTHON_SOCKET": str(path)}
    finally:
        server.terminate()
        server.wait()


def python_command() -> str:
    """The `python` a script is given: the client, run by this interpreter."""
    return f"{sys.executable} {CLIENT}"


if __name__ == "__main__":
    serve(sys.argv[1])
