"""The analysis half: results directories into pandas. Needs `optbench[report]` (Python >= 3.8).

The device half never imports this package. On a Jetson Nano's Python 3.6, copy the
results directory to a workstation and analyse it there.
"""

MISSING_MESSAGE = (
    "the analysis half needs pandas (pip install 'optbench[report]', Python 3.8 or newer); "
    "on a Jetson Nano, copy the results directory to a workstation and run it there"
)


def require_pandas():
    try:
        import pandas
    except ImportError:
        raise ImportError(MISSING_MESSAGE) from None
    return pandas
