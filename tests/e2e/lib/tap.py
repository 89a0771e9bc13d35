"""What the end-to-end tests of the live daemon share: the kenchi binary,
TAP lines through ok(), polling for a state with a deadline (nothing is
timed: a wait fails only when the state never comes), and a free
loopback port."""
import os, socket, time

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
DEADLINE = 90  # seconds a state may take to come (ASan build on a shared machine)
n = 0


def ok(cond, name, detail=""):
    global n
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {name}")
    if not cond and detail:
        for line in str(detail).splitlines()[:30]:
            print("# " + line)
    return cond


def wait_for(pred, deadline=None):
    end = time.monotonic() + (DEADLINE if deadline is None else deadline)
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
