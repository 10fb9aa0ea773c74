"""The results store (store.py: Recorder, read, read_samples) and its presentation (tables.py).

Reading needs pandas and pyarrow only: importing this package never imports torch, onnxruntime or Jupyter.
"""

from edgecloud.results.store import COLUMNS, Config, MissingResults, Recorder, latest_here, read, read_samples, runs

__all__ = ["COLUMNS", "Config", "MissingResults", "Recorder", "latest_here", "read", "read_samples", "runs"]
