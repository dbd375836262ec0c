"""Suite-wide settings.

BLAS and torch threads are pinned to one per process before NumPy or torch load: the suite's
linear algebra is on small matrices, where a 2-core machine under load runs multi-threaded
OpenBLAS calls up to ~100x slower than single-threaded ones. Results do not depend on it.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
