"""Reference numpy ETDRK4 for KS (a port of Kassam & Trefethen's kursiv.m with real FFTs), used only
to state the speed ratio in the README:  python3 bench/numpy_etdrk4.py [N] [steps]
Same equation, grid, step and contour (32 points) as @sdekit/ks-solver; prints the best steps per
second of wall time and of process CPU time (less sensitive to other jobs on the machine).
With an initial-condition file (N values, one per line) as third argument and a step count, it
prints the final state, for cross-checking the TypeScript solver."""
import sys
import time

import numpy as np


def coefficients(N, L, h, M=32):
    k = 2 * np.pi * np.arange(N // 2 + 1) / L
    lin = k**2 - k**4
    E, E2 = np.exp(h * lin), np.exp(h * lin / 2)
    r = np.exp(2j * np.pi * (np.arange(M) + 0.5) / M)
    LR = h * lin[:, None] + r[None, :]
    Q = h * np.real(np.mean((np.exp(LR / 2) - 1) / LR, axis=1))
    f1 = h * np.real(np.mean((-4 - LR + np.exp(LR) * (4 - 3 * LR + LR**2)) / LR**3, axis=1))
    f2 = h * np.real(np.mean((2 + LR + np.exp(LR) * (-2 + LR)) / LR**3, axis=1))
    f3 = h * np.real(np.mean((-4 - 3 * LR - LR**2 + np.exp(LR) * (4 - LR)) / LR**3, axis=1))
    g = -0.5j * k
    g[-1] = 0  # Nyquist mode: no nonlinear forcing
    return E, E2, Q, f1, f2, f3, g


def run(u0, L, h, steps):
    N = len(u0)
    E, E2, Q, f1, f2, f3, g = coefficients(N, L, h)
    v = np.fft.rfft(u0)
    irfft, rfft = np.fft.irfft, np.fft.rfft
    for _ in range(steps):
        Nv = g * rfft(irfft(v, N) ** 2)
        a = E2 * v + Q * Nv
        Na = g * rfft(irfft(a, N) ** 2)
        b = E2 * v + Q * Na
        Nb = g * rfft(irfft(b, N) ** 2)
        c = E2 * a + Q * (2 * Nb - Nv)
        Nc = g * rfft(irfft(c, N) ** 2)
        v = E * v + Nv * f1 + 2 * (Na + Nb) * f2 + Nc * f3
    return irfft(v, N)


if __name__ == "__main__":
    N = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    L = 34.0 * N / 64
    if len(sys.argv) > 3:
        u0 = np.loadtxt(sys.argv[3])
        print("\n".join(repr(float(x)) for x in run(u0, float(sys.argv[4]), float(sys.argv[5]), steps)))
        sys.exit(0)
    x = L * np.arange(N) / N
    u0 = np.cos(2 * np.pi * x / L) * (1 + np.sin(2 * np.pi * x / L))
    run(u0, L, 0.05, 100)
    best = best_cpu = 0.0
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        run(u0, L, 0.05, steps)
        best = max(best, steps / (time.perf_counter() - t))
        best_cpu = max(best_cpu, steps / (time.process_time() - c))
    print(f"numpy ETDRK4 N={N}: wall {best:.0f} steps/s, cpu {best_cpu:.0f} steps/cpu-s")
