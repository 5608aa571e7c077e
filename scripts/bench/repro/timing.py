"""The timer the PyTorch repro scripts share: one warm-up call, then the mean wall time of
`repeats` calls, in seconds."""
import time


def seconds(repeats, f):
    f()
    t = time.perf_counter()
    for _ in range(repeats):
        f()
    return (time.perf_counter() - t) / repeats
