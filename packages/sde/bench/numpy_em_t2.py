"""Reference for the README: vectorised numpy Euler-Maruyama on T2 (benchmarks.md), the same system,
paths, step and work as bench/simulate.bench.ts. Prints path-steps per second by wall-clock and by
process CPU time (the latter is robust when other jobs share the machine).

    python3 bench/numpy_em_t2.py [paths] [steps]
"""
import sys
import time

import numpy as np

P = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
h = 1e-3
A1, A2, B1, B2, C = 1.0, 1.2, 0.6, 0.3, 0.8
a1, a2 = A1 * A1, A2 * A2
noise = np.sqrt(2 * h)

rng = np.random.default_rng(1)
x = np.zeros((2, P))
x[0] = -0.5
x[1] = -0.4


def run(steps):
    for _ in range(steps):
        u, v = x[0], x[1]
        s1 = -(4 * u * (u * u - a1) + B1)
        s2 = -(4 * v * (v * v - a2) + B2)
        z = rng.standard_normal((2, P))
        x[0] += h * (s1 - C * s2) + noise * z[0]
        x[1] += h * (C * s1 + s2) + noise * z[1]


run(5)  # warm-up
w0, c0 = time.perf_counter(), time.process_time()
run(STEPS)
w1, c1 = time.perf_counter(), time.process_time()
work = P * STEPS
print(f"numpy EM T2: {work / (w1 - w0):.3e} path-steps/s (wall), {work / (c1 - c0):.3e} path-steps/s (CPU)")
