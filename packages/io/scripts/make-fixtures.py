#!/usr/bin/env python3
"""Writes the HDF5 and NetCDF-4 test fixtures of @sdekit/io with the reference Python libraries, so
the tests check the reader against files that h5py and netCDF4-python wrote, not against our writer.

    apt-get install -y python3-h5py python3-netcdf4   # Debian 12: h5py 3.7, netCDF4 1.6.2
    /usr/bin/python3 packages/io/scripts/make-fixtures.py

Writes packages/io/test/fixtures/series.h5 and series.nc (a few KB each; CI only reads them). The
values are a fixed function of the row index, so a test can recompute every element exactly
(value(i, j) = sin(0.1 i + j) + j, float64). The Parquet fixture comes from
make-parquet-fixture.mjs (another library: parquet-wasm).
"""
import os

import h5py
import netCDF4
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "test", "fixtures")
os.makedirs(out, exist_ok=True)


def series(n, d, offset=0):
    i = np.arange(offset, offset + n, dtype=np.float64)[:, None]
    j = np.arange(d, dtype=np.float64)[None, :]
    return np.sin(0.1 * i + j) + j


# ---- HDF5 (h5py) ----
with h5py.File(os.path.join(out, "series.h5"), "w", libver="latest") as f:
    # A [N, D] series with a dt attribute and column names.
    u = f.create_dataset("ks/u", data=series(200, 3))
    u.attrs["dt"] = 0.01
    u.attrs["columns"] = ["a", "b", "c"]
    # A float32 series whose time axis is a uniformly spaced dimension scale (h5py dims API).
    t = f.create_dataset("timed/time", data=0.25 * np.arange(64, dtype=np.float64))
    t.make_scale("time")
    x = f.create_dataset("timed/x", data=series(64, 2).astype(np.float32))
    x.dims[0].attach_scale(t)
    # A non-uniform time axis (a gap after row 10).
    tt = f.create_dataset("gappy/time", data=np.r_[np.arange(10.0), np.arange(12.0, 22.0)])
    tt.make_scale("time")
    g = f.create_dataset("gappy/x", data=series(20, 2))
    g.dims[0].attach_scale(tt)
    # R = 2 runs of N = 50 samples of D = 2, chunked and gzip-compressed.
    f.create_dataset(
        "runs", data=np.stack([series(50, 2), series(50, 2, 1000)]), chunks=(1, 16, 2), compression="gzip"
    )
    # Bad inputs.
    f.create_dataset("labels", data=np.array([b"left", b"right"], dtype="S5"))
    f.create_dataset("field4d", data=np.zeros((2, 2, 2, 2)))
    bad = series(20, 2)
    bad[7, 1] = np.nan
    f.create_dataset("with_nan", data=bad)
    f.create_dataset("ints", data=np.arange(12, dtype=np.int32).reshape(6, 2))

# ---- NetCDF-4 (netCDF4-python) ----
with netCDF4.Dataset(os.path.join(out, "series.nc"), "w", format="NETCDF4") as nc:
    nc.title = "sdekit test fixture"
    nc.createDimension("time", None)  # unlimited: netCDF stores its variables chunked
    nc.createDimension("mode", 3)
    nc.createDimension("step", 30)
    time = nc.createVariable("time", "f8", ("time",), chunksizes=(120,))
    time.units = "seconds since 2000-01-01 00:00:00"
    time.axis = "T"
    time[:] = 0.05 * np.arange(120)
    u = nc.createVariable("u", "f8", ("time", "mode"), chunksizes=(50, 3))  # rows 0-49, 50-99, 100-119
    u.units = "m/s"
    u[:, :] = series(120, 3)
    v = nc.createVariable("v", "f8", ("time",), chunksizes=(120,))
    v[:] = series(120, 1)[:, 0] * 2.0
    w = nc.createVariable("w", "f4", ("mode", "time"), chunksizes=(3, 120))  # time is the last axis
    w[:, :] = series(120, 3).T
    # A dimension without a coordinate variable: the sampling interval is not in the file.
    s = nc.createVariable("s", "f8", ("step", "mode"))
    s[:, :] = series(30, 3)
